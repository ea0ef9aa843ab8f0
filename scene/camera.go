package scene

import (
	"math"

	"github.com/hajimehoshi/ebiten/v2"
)

// flowRange is the flow, in frame widths per second, that the flow texture's
// full scale stands for (FlowRange in flow.kage).
const flowRange = 2.0

// uploadCamera encodes the flow field and the motion grid into their small
// images and blends them, scaled up, into the render-size inputs by k.
func (g *Game) uploadCamera(k float64) {
	if !g.camDirty {
		// The blend converges within a second; after that the inputs
		// are exact and need no redraw.
		if g.camSettle < 120 {
			g.camSettle++
			g.blendUp(g.in.Flow, g.flowSmall, k)
			g.blendUp(g.in.Audience, g.audSmall, k)
		}
		return
	}
	g.camDirty, g.camSettle = false, 0
	f := &g.feats
	fw, fh := 1, 1
	haveFlow := g.haveFeats && f.FlowW > 0 && f.FlowH > 0 && len(f.FlowField) == 2*f.FlowW*f.FlowH
	if haveFlow {
		fw, fh = f.FlowW, f.FlowH
	}
	g.flowSmall, g.flowPix = ensureSmall(g.flowSmall, g.flowPix, fw, fh)
	for i := 0; i < fw*fh; i++ {
		dx, dy := 0.0, 0.0
		if haveFlow {
			dx, dy = float64(f.FlowField[2*i]), float64(f.FlowField[2*i+1])
		}
		g.flowPix[4*i] = encode(dx)
		g.flowPix[4*i+1] = encode(dy)
		g.flowPix[4*i+2] = 0
		g.flowPix[4*i+3] = 255
	}
	g.flowSmall.WritePixels(g.flowPix)
	g.blendUp(g.in.Flow, g.flowSmall, k)

	// The audience map is the silhouette where the analysis sends one, and
	// the coarser motion grid otherwise.
	aw, ah := 1, 1
	haveMask := g.haveFeats && f.MaskW > 0 && f.MaskH > 0 && len(f.Mask) == f.MaskW*f.MaskH
	haveGrid := !haveMask && g.haveFeats && f.GridW > 0 && f.GridH > 0 && len(f.Grid) == f.GridW*f.GridH
	switch {
	case haveMask:
		aw, ah = f.MaskW, f.MaskH
	case haveGrid:
		aw, ah = f.GridW, f.GridH
	}
	g.audSmall, g.audPix = ensureSmall(g.audSmall, g.audPix, aw, ah)
	for i := 0; i < aw*ah; i++ {
		var e byte
		switch {
		case haveMask:
			e = f.Mask[i]
		case haveGrid:
			e = byte(255 * math.Max(0, math.Min(1, float64(f.Grid[i]))))
		}
		g.audPix[4*i], g.audPix[4*i+1], g.audPix[4*i+2], g.audPix[4*i+3] = e, e, e, 255
	}
	g.audSmall.WritePixels(g.audPix)
	g.blendUp(g.in.Audience, g.audSmall, k)
}

// encode maps a flow value to a byte, 128 meaning still.
func encode(v float64) byte {
	return byte(math.Max(0, math.Min(255, math.Round(127.5+127.5*v/flowRange))))
}

// ensureSmall keeps a w×h image and its pixel buffer, reallocating only when
// the size changes.
func ensureSmall(img *ebiten.Image, pix []byte, w, h int) (*ebiten.Image, []byte) {
	if img != nil {
		if b := img.Bounds(); b.Dx() == w && b.Dy() == h {
			return img, pix
		}
		img.Deallocate()
	}
	return ebiten.NewImage(w, h), make([]byte, 4*w*h)
}

// blendUp draws small scaled to dst's size with a linear filter, mixed in by k.
func (g *Game) blendUp(dst, small *ebiten.Image, k float64) {
	sb, db := small.Bounds(), dst.Bounds()
	g.camOpts.GeoM.Reset()
	g.camOpts.GeoM.Scale(float64(db.Dx())/float64(sb.Dx()), float64(db.Dy())/float64(sb.Dy()))
	g.camOpts.ColorScale.Reset()
	g.camOpts.ColorScale.ScaleAlpha(float32(k))
	dst.DrawImage(small, &g.camOpts)
}
