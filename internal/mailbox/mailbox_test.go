package mailbox

import (
	"sync"
	"testing"
)

// A buffer of n copies of the sequence number that wrote it: a reader that
// sees two different numbers in one buffer saw a torn value.
func bufBox(n int) *Box[[]uint64] {
	return New(Funcs[[]uint64]{
		New:  func() []uint64 { return make([]uint64, n) },
		Copy: func(dst, src *[]uint64) { *dst = append((*dst)[:0], *src...) },
	})
}

func fill(b *Box[[]uint64], v uint64) uint64 {
	buf := *b.Back()
	for i := range buf {
		buf[i] = v
	}
	return b.Publish()
}

func TestLatestReportsNothingNew(t *testing.T) {
	b := bufBox(4)
	var dst []uint64
	if seq, ok := b.Latest(&dst, 0); ok || seq != 0 || dst != nil {
		t.Errorf("empty box: seq %d, ok %v, dst %v", seq, ok, dst)
	}
	if seq := fill(b, 7); seq != 1 {
		t.Errorf("first Publish numbered %d, want 1", seq)
	}
	seq, ok := b.Latest(&dst, 0)
	if !ok || seq != 1 || len(dst) != 4 || dst[3] != 7 {
		t.Errorf("after one Publish: seq %d, ok %v, dst %v", seq, ok, dst)
	}
	dst[0] = 99
	if s, ok := b.Latest(&dst, seq); ok || s != seq || dst[0] != 99 {
		t.Errorf("asked again with nothing new: seq %d, ok %v, dst touched %v", s, ok, dst)
	}
	// Stale values are dropped, not queued: three Publishes, one new value.
	fill(b, 8)
	fill(b, 9)
	fill(b, 10)
	if s, ok := b.Latest(&dst, seq); !ok || s != 4 || dst[0] != 10 {
		t.Errorf("after three Publishes: seq %d, ok %v, dst %v; want 4 and the newest", s, ok, dst)
	}
	// Two readers each get the newest, whatever the other took.
	var other []uint64
	if s, ok := b.Latest(&other, 0); !ok || s != 4 || other[0] != 10 {
		t.Errorf("second reader: seq %d, ok %v, %v", s, ok, other)
	}
	select {
	case <-b.Ready():
	default:
		t.Error("no Ready token after a Publish")
	}
	select {
	case <-b.Ready():
		t.Error("a second Ready token for the same burst: tokens queue")
	default:
	}
	b.Close()
	if _, ok := b.Latest(&dst, 0); ok {
		t.Error("Latest after Close reported a value")
	}
}

// The writer never waits: while a reader is copying the newest value, the
// writer publishes into other slots, and the value being copied does not
// change under the reader.
func TestWriterNeverReusesAValueBeingRead(t *testing.T) {
	var copying, release = make(chan struct{}), make(chan struct{})
	hold := true
	b := New(Funcs[[]uint64]{
		New: func() []uint64 { return make([]uint64, 2) },
		Copy: func(dst, src *[]uint64) {
			if hold {
				close(copying)
				<-release
			}
			*dst = append((*dst)[:0], *src...)
		},
	})
	fill(b, 1)
	var got []uint64
	done := make(chan struct{})
	go func() { defer close(done); b.Latest(&got, 0) }()
	<-copying
	for v := uint64(2); v < 10; v++ {
		fill(b, v) // must not block, nor write into the slot being read
	}
	close(release)
	<-done
	hold = false
	if got[0] != 1 || got[1] != 1 {
		t.Errorf("the reader copied %v while the writer went on; want [1 1]", got)
	}
	if s, ok := b.Latest(&got, 1); !ok || s != 9 || got[0] != 9 {
		t.Errorf("after the slow read: seq %d, %v; want 9", s, got)
	}
}

// One writer and several readers at full speed: no torn values, sequence
// numbers that only go up, and each value is the one its number says. Run
// with -race.
func TestConcurrentReadersSeeWholeValues(t *testing.T) {
	b := bufBox(256)
	const writes = 20000
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []uint64
			var seq uint64
			for seq < writes {
				s, ok := b.Latest(&dst, seq)
				if !ok {
					continue
				}
				if s < seq {
					t.Errorf("sequence went back from %d to %d", seq, s)
					return
				}
				for i, v := range dst {
					if v != s {
						t.Errorf("value %d has %d at %d: torn", s, v, i)
						return
					}
				}
				seq = s
			}
		}()
	}
	for v := uint64(1); v <= writes; v++ {
		fill(b, v)
	}
	wg.Wait()
}

// Close frees every value once, including one a reader was copying.
func TestCloseFreesEachValueOnce(t *testing.T) {
	freed := map[*int]int{}
	copying, release := make(chan struct{}), make(chan struct{})
	b := New(Funcs[*int]{
		New:  func() *int { return new(int) },
		Copy: func(dst, src **int) { close(copying); <-release; *dst = *src },
		Free: func(v **int) { freed[*v]++ },
	})
	b.Publish()
	b.Publish()
	var dst *int
	done := make(chan struct{})
	go func() { defer close(done); b.Latest(&dst, 0) }()
	<-copying
	b.Publish() // the slot being read is not reused
	b.Close()
	close(release)
	<-done
	if len(freed) != 3 {
		t.Errorf("%d values freed, want the 3 made (two, and one while a read held the newest)", len(freed))
	}
	for p, n := range freed {
		if n != 1 {
			t.Errorf("value %p freed %d times", p, n)
		}
	}
}

// In steady state a Publish and a Latest allocate nothing.
func TestNoAllocationInSteadyState(t *testing.T) {
	b := bufBox(1024)
	var dst []uint64
	var seq uint64
	step := func() {
		fill(b, seq+1)
		seq, _ = b.Latest(&dst, seq)
	}
	step()
	if a := testing.AllocsPerRun(1000, step); a != 0 {
		t.Errorf("%.1f allocations per Publish and Latest, want 0", a)
	}
}

func BenchmarkPublishLatest(b *testing.B) {
	box := bufBox(1024)
	var dst []uint64
	var seq uint64
	b.ReportAllocs()
	for b.Loop() {
		box.Publish()
		seq, _ = box.Latest(&dst, seq)
	}
}

// A reader with nothing new: the display tick's common case.
func BenchmarkLatestNothingNew(b *testing.B) {
	box := bufBox(1024)
	var dst []uint64
	seq := box.Publish()
	seq, _ = box.Latest(&dst, 0)
	b.ReportAllocs()
	for b.Loop() {
		box.Latest(&dst, seq)
	}
}

// Read lends the newest value in place: no copy, the slot pinned while it
// is read (the writer publishes into another meanwhile), nothing lent
// again once read, and nothing allocated.
func TestReadInPlace(t *testing.T) {
	b := New(Funcs[[]int]{Copy: func(dst, src *[]int) { *dst = append((*dst)[:0], *src...) }})
	back := b.Back()
	*back = append(*back, 1, 2, 3)
	b.Publish()
	var during []int
	shared := false
	read := func(v *[]int) {
		// The writer fills and publishes other values while this one is
		// read; the slot read is never handed to it.
		for range 3 {
			w := b.Back()
			shared = shared || w == v
			*w = append((*w)[:0], 9)
			b.Publish()
		}
		during = append(during[:0], *v...)
	}
	seq, ok := b.Read(0, read)
	if !ok || seq == 0 || len(during) != 3 || during[0] != 1 {
		t.Fatalf("Read: seq %d ok %v, read %v while the writer published; want 1 2 3", seq, ok, during)
	}
	seq2, ok := b.Read(seq, read)
	if !ok || seq2 == seq || len(during) != 1 || during[0] != 9 {
		t.Errorf("the newer value: seq %d ok %v, read %v; want 9", seq2, ok, during)
	}
	if shared {
		t.Errorf("the writer was handed the slot being read")
	}
	if _, ok := b.Read(b.Seq(), func(*[]int) { t.Error("read called for a value already read") }); ok {
		t.Errorf("Read lent a value the reader already had")
	}
	noop := func(*[]int) {}
	if a := testing.AllocsPerRun(10, func() { b.Read(0, noop) }); a != 0 {
		t.Errorf("Read allocates %v times", a)
	}
}
