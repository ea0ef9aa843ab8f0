// Package redact takes the passwords out of URLs in text bound for a
// person or a machine that is not the camera: logs, errors, /api/status.
// Stream URLs carry them (rtsp://user:pass@host/), and OpenCV's and
// FFmpeg's messages quote the URL they were given.
package redact

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
)

// Mask stands where a password was, as net/url's Redacted writes it.
const Mask = "xxxxx"

// userinfo is a URL's scheme and the user info before the host. The user
// info runs to the last @ before the path (a password typed with a bare @
// in it still goes), and never over a space.
var userinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)([^\s/?#]*)@`)

// URLs returns s with the password of every URL in it replaced by Mask:
// rtsp://user:pass@host/ becomes rtsp://user:xxxxx@host/.
func URLs(s string) string {
	if !strings.Contains(s, "@") || !strings.Contains(s, "://") {
		return s
	}
	return userinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := userinfo.FindStringSubmatch(m)
		user, _, hasPass := strings.Cut(sub[2], ":")
		if !hasPass {
			return m
		}
		return sub[1] + user + ":" + Mask + "@"
	})
}

// Error returns err with its text redacted, or err itself when there is
// nothing to take out (so errors.Is still sees through it).
func Error(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if r := URLs(s); r != s {
		return errors.New(r)
	}
	return err
}

// Handler wraps next so that every log line's message and attributes have
// their URLs' passwords taken out before next (and whatever it feeds, such
// as the journal behind /api/status) sees them.
func Handler(next slog.Handler) slog.Handler { return &handler{next: next} }

type handler struct{ next slog.Handler }

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, URLs(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	cl := make([]slog.Attr, len(as))
	for i, a := range as {
		cl[i] = attr(a)
	}
	return &handler{next: h.next.WithAttrs(cl)}
}

func (h *handler) WithGroup(name string) slog.Handler { return &handler{next: h.next.WithGroup(name)} }

// attr redacts one attribute: strings, errors, Stringers and groups.
func attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); strings.Contains(s, "@") {
			return slog.String(a.Key, URLs(s))
		}
	case slog.KindGroup:
		g := v.Group()
		cl := make([]any, len(g))
		for i, ga := range g {
			cl[i] = attr(ga)
		}
		return slog.Group(a.Key, cl...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			if s := x.Error(); strings.Contains(s, "@") {
				return slog.String(a.Key, URLs(s))
			}
		case interface{ String() string }:
			if s := x.String(); strings.Contains(s, "@") {
				return slog.String(a.Key, URLs(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
