package systemd

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const unitFile = "../../deploy/reverie.service"

// unitValues reads a unit file's Key=value lines (every value of a key).
func unitValues(t *testing.T) (map[string][]string, string) {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		out[k] = append(out[k], v)
	}
	return out, string(b)
}

// The hardened unit still lets reverie do its work: the camera, the GPU,
// the watchdog, the display and the network.
func TestUnitKeepsWhatReverieNeeds(t *testing.T) {
	v, text := unitValues(t)
	has := func(key, want string) {
		t.Helper()
		for _, x := range v[key] {
			for _, f := range strings.Fields(x) {
				if f == want {
					return
				}
			}
		}
		t.Errorf("%s: %q lacks %s", unitFile, v[key], want)
	}
	has("Type", "notify")
	has("NotifyAccess", "main")
	if len(v["WatchdogSec"]) == 0 {
		t.Error("no WatchdogSec")
	}
	has("DevicePolicy", "closed")
	has("DeviceAllow", "char-video4linux") // /dev/video*
	has("DeviceAllow", "char-drm")         // /dev/dri/*
	for _, f := range []string{"AF_UNIX", "AF_INET", "AF_INET6"} {
		has("RestrictAddressFamilies", f) // the notify socket and X; HTTP and OSC
	}
	for key, bad := range map[string]string{
		"PrivateDevices":          "yes", // hides /dev/video*
		"MemoryDenyWriteExecute":  "yes", // Mesa compiles shaders at run time
		"PrivateUsers":            "yes", // the device groups map to nobody
		"PrivateNetwork":          "yes",
		"SupplementaryGroups":     "render",
		"SystemCallFilter":        "~@system-service",
		"RestrictAddressFamilies": "none",
	} {
		for _, x := range v[key] {
			if strings.Contains(x, bad) {
				t.Errorf("%s=%s would stop reverie", key, x)
			}
		}
	}
	// The install lines work where no render group exists.
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "useradd") && strings.Contains(line, "render") {
			t.Errorf("useradd names the render group, which not every machine has: %s", line)
		}
	}
	if !strings.Contains(text, "getent group render") {
		t.Error("the install lines do not add the render group where it exists")
	}
}

// systemd-analyze security rates the unit 3.0 or lower (it was 7.7).
func TestUnitExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--no-pager", unitFile).CombinedOutput()
	m := regexp.MustCompile(`Overall exposure level for reverie\.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Skipf("systemd-analyze security --offline gave no rating (%v): %.300s", err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	t.Logf("exposure %.1f", score)
	if score > 3.0 {
		t.Errorf("exposure %.1f, want 3.0 or lower:\n%s", score, out)
	}
}
