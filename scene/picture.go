package scene

import "github.com/hajimehoshi/ebiten/v2"

// screenPic is the picture on screen at an image model's input size, for a
// model whose image source is feedback.
type screenPic struct {
	img  *ebiten.Image
	opts ebiten.DrawImageOptions
}

// ReadPicture reads the picture on screen (the chain's newest output,
// before the output pass) into pix, 4·w·h bytes of RGBA, at w×h: the part
// of the canvas the generator's frame covers under generator.fit, so a
// network that repaints it lines up with what it shows. Under cover, the
// frame's overflow beyond the canvas reads black. Only inside the game
// loop; the image is reused while w×h stays.
func (g *Game) ReadPicture(pix []byte, w, h int) {
	if w < 1 || h < 1 || len(pix) != 4*w*h {
		return
	}
	s := &g.screenPic
	if s.img == nil || s.img.Bounds().Dx() != w || s.img.Bounds().Dy() != h {
		if s.img != nil {
			s.img.Deallocate()
		}
		s.img = ebiten.NewImage(w, h)
	}
	sx, sy, tx, ty := g.fit.Place(g.genW, g.genH, g.cfg.RenderW, g.cfg.RenderH)
	s.opts.GeoM.Reset()
	s.opts.GeoM.Translate(-tx, -ty)
	s.opts.GeoM.Scale(float64(w)/(float64(g.genW)*sx), float64(h)/(float64(g.genH)*sy))
	s.opts.Filter = ebiten.FilterLinear
	s.opts.Blend = ebiten.BlendCopy
	s.img.Clear()
	s.img.DrawImage(g.Chain.Output(), &s.opts)
	s.img.ReadPixels(pix)
}
