package control

import (
	"fmt"
	"strings"
	"time"
)

// Schedule is the opening hours: per weekday, the spans in which the piece
// runs. Outside them it sleeps (black) or shows a calm preset.
type Schedule struct {
	spans [7][]span // by time.Weekday
}

type span struct{ from, to int } // minutes since midnight, to > from

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSchedule reads rules such as "mon-fri 10:00-18:00", "sat,sun
// 11:00-17:00", "daily 09:30-21:00" or "fri 20:00-02:00" (past midnight: the
// hours after it count for Saturday). No rules means always open.
func ParseSchedule(rules []string) (*Schedule, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	s := &Schedule{}
	for i, r := range rules {
		f := strings.Fields(strings.ToLower(r))
		if len(f) != 2 {
			return nil, fmt.Errorf("[%d] %q: expected DAYS HH:MM-HH:MM, such as \"mon-fri 10:00-18:00\"", i, r)
		}
		days, err := parseDays(f[0])
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: %v", i, r, err)
		}
		from, to, err := parseHours(f[1])
		if err != nil {
			return nil, fmt.Errorf("[%d] %q: %v", i, r, err)
		}
		for d := range 7 {
			if !days[d] {
				continue
			}
			if to > from {
				s.spans[d] = append(s.spans[d], span{from, to})
			} else { // past midnight
				s.spans[d] = append(s.spans[d], span{from, 24 * 60})
				if to > 0 {
					s.spans[(d+1)%7] = append(s.spans[(d+1)%7], span{0, to})
				}
			}
		}
	}
	return s, nil
}

func parseDays(s string) ([7]bool, error) {
	var out [7]bool
	if s == "daily" {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		from, ok1 := dayIndex(a)
		to, ok2 := from, true
		if isRange {
			to, ok2 = dayIndex(b)
		}
		if !ok1 || !ok2 {
			return out, fmt.Errorf("days %q: expected daily, or names mon tue wed thu fri sat sun, as a list (sat,sun) or a range (mon-fri)", s)
		}
		for d := from; ; d = (d + 1) % 7 {
			out[d] = true
			if d == to {
				break
			}
		}
	}
	return out, nil
}

func dayIndex(s string) (int, bool) {
	for i, n := range dayNames {
		if s == n {
			return i, true
		}
	}
	return 0, false
}

func parseHours(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "-")
	from, err1 := parseClock(a)
	to, err2 := parseClock(b)
	if !ok || err1 != nil || err2 != nil || from == to {
		return 0, 0, fmt.Errorf("hours %q: expected HH:MM-HH:MM with two different times, 00:00..24:00", s)
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if n, err := fmt.Sscanf(s, "%d:%d", &h, &m); err != nil || n != 2 || len(s) != 5 {
		return 0, fmt.Errorf("bad time")
	}
	if h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, fmt.Errorf("bad time")
	}
	return h*60 + m, nil
}

// Open says whether the piece runs at t (local time of t). A nil schedule
// is always open.
func (s *Schedule) Open(t time.Time) bool {
	if s == nil {
		return true
	}
	m := t.Hour()*60 + t.Minute()
	for _, sp := range s.spans[t.Weekday()] {
		if m >= sp.from && m < sp.to {
			return true
		}
	}
	return false
}
