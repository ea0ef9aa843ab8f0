package control

import (
	"strings"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	s, err := ParseSchedule([]string{"mon-fri 10:00-18:00", "sat,sun 11:00-17:00", "fri 20:00-02:00"})
	if err != nil {
		t.Fatal(err)
	}
	at := func(day time.Weekday, hm string) time.Time {
		// 2024-06-02 is a Sunday.
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2024-06-02 "+hm, time.Local)
		return tm.AddDate(0, 0, int(day))
	}
	for _, c := range []struct {
		day  time.Weekday
		hm   string
		open bool
	}{
		{time.Monday, "09:59", false}, {time.Monday, "10:00", true}, {time.Wednesday, "17:59", true},
		{time.Wednesday, "18:00", false}, {time.Saturday, "10:30", false}, {time.Sunday, "16:00", true},
		{time.Friday, "19:00", false}, {time.Friday, "23:30", true}, {time.Saturday, "01:59", true},
		{time.Saturday, "02:00", false}, {time.Thursday, "01:00", false},
	} {
		if got := s.Open(at(c.day, c.hm)); got != c.open {
			t.Errorf("%s %s: open %v, want %v", c.day, c.hm, got, c.open)
		}
	}
	var always *Schedule
	if !always.Open(time.Now()) {
		t.Error("no schedule should be always open")
	}
	for _, bad := range []string{"mon 10-18", "someday 10:00-18:00", "mon 10:00-10:00", "mon 25:00-26:00", "mon-fri", "mon 9:00-17:00"} {
		if _, err := ParseSchedule([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestScheduleSleepsAndWakes(t *testing.T) {
	s, eng, _, j := newTestServer(t, DefaultConfig())
	logs := captureLog(t, j)
	eng.ApplyPreset("storm")
	held := s.applySchedule(false, "black", "", false)
	if !eng.Stats().Sleeping || held != "storm" {
		t.Errorf("closing with black: sleeping %v, held %q", eng.Stats().Sleeping, held)
	}
	s.applySchedule(true, "black", held, false)
	if eng.Stats().Sleeping {
		t.Error("still asleep after opening")
	}
	held = s.applySchedule(false, "calm", "", false)
	if eng.Stats().Sleeping || eng.Stats().Preset != "calm" {
		t.Errorf("closing with a calm preset: %+v", eng.Stats())
	}
	s.applySchedule(true, "calm", held, false)
	if eng.Stats().Preset != "storm" {
		t.Errorf("opening did not restore the preset: %q", eng.Stats().Preset)
	}
	s.applySchedule(false, "nosuch", "", false)
	if !eng.Stats().Sleeping || !strings.Contains(logs.String(), "showing black instead") {
		t.Error("an unknown closed-hours preset should fall back to black, with a log line")
	}
}
