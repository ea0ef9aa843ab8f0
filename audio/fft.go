package audio

import (
	"math"
	"math/bits"
)

// fft is an in-place radix-2 complex FFT of one fixed size. Its tables are
// made once, so a transform allocates nothing.
type fft struct {
	n      int
	rev    []int32
	cos    []float32 // cos(2πk/n), k < n/2
	sin    []float32
	re, im []float32
}

func newFFT(n int) *fft {
	f := &fft{n: n, rev: make([]int32, n), cos: make([]float32, n/2), sin: make([]float32, n/2),
		re: make([]float32, n), im: make([]float32, n)}
	shift := bits.UintSize - bits.TrailingZeros(uint(n))
	for i := range f.rev {
		f.rev[i] = int32(bits.Reverse(uint(i)) >> shift)
	}
	for k := range f.cos {
		a := 2 * math.Pi * float64(k) / float64(n)
		f.cos[k] = float32(math.Cos(a))
		f.sin[k] = float32(math.Sin(a))
	}
	return f
}

// transform computes the forward transform of f.re, f.im in place.
func (f *fft) transform() {
	re, im := f.re, f.im
	for i, j := range f.rev {
		if int(j) > i {
			re[i], re[j] = re[j], re[i]
			im[i], im[j] = im[j], im[i]
		}
	}
	for size := 2; size <= f.n; size <<= 1 {
		half, step := size/2, f.n/size
		for start := 0; start < f.n; start += size {
			for k := 0; k < half; k++ {
				c, s := f.cos[k*step], -f.sin[k*step]
				a, b := start+k, start+k+half
				tr := re[b]*c - im[b]*s
				ti := re[b]*s + im[b]*c
				re[b], im[b] = re[a]-tr, im[a]-ti
				re[a] += tr
				im[a] += ti
			}
		}
	}
}
