// Package control makes a running installation operable: an HTTP server
// with a web panel, status, live parameters, previews and Prometheus
// metrics; an OSC listener for performers; the opening-hours schedule; and
// the systemd watchdog. It drives the installation through the Engine
// interface, so it knows nothing of Ebiten, OpenCV or ONNX Runtime.
package control

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"reverie/internal/field"
)

// TokenEnv is the environment variable that supplies the access token when
// control.token is empty, so the token can stay out of config.yaml.
const TokenEnv = "REVERIE_TOKEN"

// MinTokenLen is the shortest accepted token: long enough not to be guessed
// on a gallery network.
const MinTokenLen = 16

// Config is the control section of config.yaml.
type Config struct {
	Listen     string         `yaml:"listen"`      // HTTP host:port; "" turns the server off
	Token      string         `yaml:"token"`       // access token; "" uses $REVERIE_TOKEN
	PreviewFPS float64        `yaml:"preview_fps"` // /stream.mjpeg frame rate
	StallAfter float64        `yaml:"stall_after"` // seconds without a rendered frame before /healthz fails
	OSC        OSCConfig      `yaml:"osc"`
	Schedule   ScheduleConfig `yaml:"schedule"`
}

// OSCConfig is control.osc.
type OSCConfig struct {
	Listen      string   `yaml:"listen"`       // UDP host:port; "" turns OSC off
	Allow       []string `yaml:"allow"`        // source addresses or CIDR ranges; empty allows any
	StatusTo    string   `yaml:"status_to"`    // host:port that receives status; "" sends none
	StatusEvery float64  `yaml:"status_every"` // seconds between status bundles
}

// ScheduleConfig is control.schedule: the opening hours.
type ScheduleConfig struct {
	Open    []string `yaml:"open"`    // "mon-fri 10:00-18:00" rules; empty is always open
	Outside string   `yaml:"outside"` // "black", or a preset name shown while closed
}

// DefaultConfig is the control section's defaults, the same as config.yaml's.
func DefaultConfig() Config {
	return Config{
		Listen:     "127.0.0.1:8080",
		PreviewFPS: 2,
		StallAfter: 5,
		OSC:        OSCConfig{Listen: "127.0.0.1:9000", Allow: []string{}, StatusEvery: 1},
		Schedule:   ScheduleConfig{Open: []string{}, Outside: "black"},
	}
}

// FieldError names the config key a validation failure is about.
type FieldError = field.Error

// Validate checks every value. A server reachable from the network without
// a token is refused: the panel can change what the audience sees.
func (c *Config) Validate() error {
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return &FieldError{Key: "listen", Msg: fmt.Sprintf("%q: expected host:port such as 127.0.0.1:8080, or \"\" to turn the server off", c.Listen)}
		}
		if !IsLoopback(c.Listen) && c.AccessToken() == "" {
			return &FieldError{Key: "token", Msg: fmt.Sprintf("empty, but listen %q is reachable from the network: set control.token or $%s (at least %d characters), or listen on 127.0.0.1", c.Listen, TokenEnv, MinTokenLen)}
		}
	}
	if t := c.AccessToken(); t != "" && len(t) < MinTokenLen {
		return &FieldError{Key: "token", Msg: fmt.Sprintf("too short (%d characters): expected at least %d", len(t), MinTokenLen)}
	}
	if c.PreviewFPS <= 0 || c.PreviewFPS > 30 {
		return &FieldError{Key: "preview_fps", Msg: fmt.Sprintf("%g: expected more than 0 and at most 30", c.PreviewFPS)}
	}
	if c.StallAfter < 1 || c.StallAfter > 600 {
		return &FieldError{Key: "stall_after", Msg: fmt.Sprintf("%g: expected 1..600 seconds", c.StallAfter)}
	}
	if c.OSC.Listen != "" {
		if _, err := net.ResolveUDPAddr("udp", c.OSC.Listen); err != nil {
			return &FieldError{Key: "osc.listen", Msg: fmt.Sprintf("%q: expected host:port such as 127.0.0.1:9000, or \"\" to turn OSC off", c.OSC.Listen)}
		}
	}
	if _, err := parseAllow(c.OSC.Allow); err != nil {
		return &FieldError{Key: "osc.allow", Msg: err.Error()}
	}
	if c.OSC.StatusTo != "" {
		if _, _, err := net.SplitHostPort(c.OSC.StatusTo); err != nil {
			return &FieldError{Key: "osc.status_to", Msg: fmt.Sprintf("%q: expected host:port such as 192.168.1.20:9001, or \"\" to send no status", c.OSC.StatusTo)}
		}
	}
	if c.OSC.StatusEvery < 0.05 || c.OSC.StatusEvery > 3600 {
		return &FieldError{Key: "osc.status_every", Msg: fmt.Sprintf("%g: expected 0.05..3600 seconds", c.OSC.StatusEvery)}
	}
	if _, err := ParseSchedule(c.Schedule.Open); err != nil {
		return &FieldError{Key: "schedule.open", Msg: err.Error()}
	}
	if strings.TrimSpace(c.Schedule.Outside) == "" {
		return &FieldError{Key: "schedule.outside", Msg: "empty: expected black or the name of a preset"}
	}
	return nil
}

// AccessToken is the configured token, or $REVERIE_TOKEN when none is.
func (c *Config) AccessToken() string {
	if c.Token != "" {
		return c.Token
	}
	return os.Getenv(TokenEnv)
}

// IsLoopback says whether a host:port only accepts connections from this
// machine. An empty host means every interface.
func IsLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// parseAllow reads the OSC allow-list: addresses or CIDR ranges.
func parseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: expected an IP address (192.168.1.20) or a CIDR range (192.168.1.0/24)", i, s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
