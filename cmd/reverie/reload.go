package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"reverie/control"
)

// journal keeps the recent warnings and errors for /api/status; setupLog
// routes the log through it.
var journal = control.NewJournal(64)

// reloadEvery is how often the config file is checked for changes.
const reloadEvery = 2 * time.Second

// watchConfig reloads path on SIGHUP and when its content changes, until
// ctx ends. A file that fails to load is rejected with the reason logged
// (and shown in /api/status); the running config stays.
func watchConfig(ctx context.Context, path string, cur Config, apply func(old, new Config)) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	sum := fileSum(path)
	tick := time.NewTicker(reloadEvery)
	defer tick.Stop()
	for {
		why := ""
		select {
		case <-ctx.Done():
			return
		case <-hup:
			why = "SIGHUP"
		case <-tick.C:
			s := fileSum(path)
			if bytes.Equal(s, sum) {
				continue
			}
			sum = s
			if s == nil {
				slog.Warn("config file is gone; the running config stays", "file", path)
				continue
			}
			why = "file changed"
		}
		sum = fileSum(path)
		next, err := LoadConfig(path, true)
		if err != nil {
			slog.Error("config reload rejected; the running config stays", "trigger", why, "err", oneLine(err))
			continue
		}
		slog.Info("config reloaded", "file", path, "trigger", why)
		apply(cur, next)
		cur = next
	}
}

func fileSum(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := sha256.Sum256(b)
	return s[:]
}

// liveReload applies what can change while running: logging, the control
// section, the generator (through the hot swap) and the passes' parameters.
// Anything else is logged as needing a restart.
func liveReload(srv *control.Server, eng *engine) func(old, new Config) {
	return func(old, next Config) {
		if old.Log != next.Log {
			setupLog(next.Log)
		}
		restart, err := srv.Reconfigure(next.Control)
		if err != nil {
			slog.Error("control section not applied", "err", err)
		}
		if !reflect.DeepEqual(old.Generator, next.Generator) {
			go func() {
				if err := eng.swapGenerator(next.Generator); err != nil {
					slog.Error("generator change not applied; the previous model keeps running", "model", next.Generator.Model, "err", err)
				} else {
					slog.Info("generator changed", "model", next.Generator.Model)
				}
			}()
		}
		restart = append(restart, applyScene(eng, old, next)...)
		if !reflect.DeepEqual(old.Vision, next.Vision) {
			restart = append(restart, "vision")
		}
		if len(restart) > 0 {
			slog.Warn("config changes that take effect at the next restart", "keys", strings.Join(restart, ", "))
		}
	}
}

// applyScene sets the passes' parameters live when the chain itself (which
// passes, in which order) is unchanged, and names what needs a restart.
func applyScene(eng *engine, old, next Config) []string {
	o, n := old.Scene, next.Scene
	var restart []string
	same := len(o.Passes) == len(n.Passes)
	for i := 0; same && i < len(o.Passes); i++ {
		same = o.Passes[i].Pass == n.Passes[i].Pass
	}
	if !same {
		return []string{"scene.passes (the chain)"}
	}
	seen := map[string]int{}
	for i, p := range n.Passes {
		seen[p.Pass]++
		prefix := p.Pass
		if seen[p.Pass] > 1 {
			prefix = fmt.Sprintf("%s#%d", p.Pass, seen[p.Pass])
		}
		for k, v := range p.Params {
			if old := o.Passes[i].Params[k]; old == v {
				continue
			}
			if err := eng.Set(prefix+"."+k, v); err != nil {
				slog.Warn("scene parameter not applied", "param", prefix+"."+k, "err", err)
			}
		}
	}
	o.Passes, n.Passes = nil, nil
	if !reflect.DeepEqual(o, n) {
		restart = append(restart, "scene (other than pass parameters)")
	}
	return restart
}
