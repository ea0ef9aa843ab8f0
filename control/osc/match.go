package osc

import (
	"fmt"
	"strings"
)

// MaxPattern bounds an address pattern's length. Matching costs the
// pattern's length times the address's, so this keeps a hostile pattern
// cheap.
const MaxPattern = 512

// IsPattern says whether an address holds any OSC 1.0 pattern character
// (? * [ ] { }), so a plain address can skip matching.
func IsPattern(addr string) bool { return strings.ContainsAny(addr, "?*[]{}") }

// Pattern is a compiled OSC 1.0 address pattern:
//
//	?        any one character but '/'
//	*        any run of characters without '/', the empty one too
//	[abc]    one of the listed characters; a-z is a range, a leading ! negates
//	{ab,cd}  one of the listed strings
//
// Every other character matches itself.
type Pattern struct {
	src   string
	items []item
}

type item struct {
	kind byte     // 'c' one character, '?', '*', '[' a class, '{' alternatives
	c    byte     // for 'c'
	set  charSet  // for '[': the characters it takes, negation applied
	alts []string // for '{'
}

// Compile reads an address pattern, with an error that names the problem.
func Compile(pattern string) (*Pattern, error) {
	if len(pattern) > MaxPattern {
		return nil, fmt.Errorf("address pattern of %d bytes; at most %d are accepted", len(pattern), MaxPattern)
	}
	p := &Pattern{src: pattern}
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '?', '*':
			if c == '*' && len(p.items) > 0 && p.items[len(p.items)-1].kind == '*' {
				continue // ** is *
			}
			p.items = append(p.items, item{kind: c})
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 0 {
				return nil, fmt.Errorf("address pattern %q: '[' at byte %d has no closing ']'", pattern, i)
			}
			body := pattern[i+1 : i+1+end]
			it := item{kind: '['}
			neg := strings.HasPrefix(body, "!")
			if neg {
				body = body[1:]
			}
			for j := 0; j < len(body); j++ {
				if j+2 < len(body) && body[j+1] == '-' {
					lo, hi := body[j], body[j+2]
					if lo > hi {
						lo, hi = hi, lo
					}
					for x := int(lo); x <= int(hi); x++ {
						it.set.add(byte(x))
					}
					j += 2
					continue
				}
				it.set.add(body[j])
			}
			if neg {
				for x := range it.set {
					it.set[x] = ^it.set[x]
				}
			}
			it.set.del('/')
			p.items = append(p.items, it)
			i += end + 1
		case '{':
			end := strings.IndexByte(pattern[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("address pattern %q: '{' at byte %d has no closing '}'", pattern, i)
			}
			p.items = append(p.items, item{kind: '{', alts: strings.Split(pattern[i+1:i+1+end], ",")})
			i += end + 1
		case ']', '}':
			return nil, fmt.Errorf("address pattern %q: %q at byte %d closes nothing", pattern, c, i)
		default:
			p.items = append(p.items, item{kind: 'c', c: c})
		}
	}
	return p, nil
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.src }

// Match says whether the address matches the whole pattern. It tracks the
// set of positions in addr the pattern so far can reach, so it never
// backtracks: time is the pattern's length times the address's.
func (p *Pattern) Match(addr string) bool {
	buf := make([]bool, 2*(len(addr)+1))
	cur, next := buf[:len(addr)+1], buf[len(addr)+1:]
	cur[0] = true
	for k := range p.items {
		it := &p.items[k]
		clear(next)
		live := false
		for i, ok := range cur {
			if !ok {
				continue
			}
			switch it.kind {
			case 'c':
				if i < len(addr) && addr[i] == it.c {
					next[i+1], live = true, true
				}
			case '?':
				if i < len(addr) && addr[i] != '/' {
					next[i+1], live = true, true
				}
			case '[':
				if i < len(addr) && it.set.has(addr[i]) {
					next[i+1], live = true, true
				}
			case '*':
				for j := i; ; j++ {
					next[j], live = true, true
					if j == len(addr) || addr[j] == '/' {
						break
					}
				}
			case '{':
				for _, a := range it.alts {
					if strings.HasPrefix(addr[i:], a) {
						next[i+len(a)], live = true, true
					}
				}
			}
		}
		if !live {
			return false
		}
		cur, next = next, cur
	}
	return cur[len(addr)]
}

// charSet is a set of bytes, one bit each.
type charSet [4]uint64

func (s *charSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *charSet) del(c byte)      { s[c>>6] &^= 1 << (c & 63) }
func (s *charSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
