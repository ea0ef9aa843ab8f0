package core

import (
	"reverie/gen"
	"reverie/vision"
)

// imageFeed hands an image model (a manifest with image:) the picture its
// image.source names: the camera's, the audience's silhouette, or the
// picture on screen. Live and offline rendering share it. The camera's
// picture and the screen's are written straight into the runner's next
// picture (Runner.PictureBack), whose buffers are reused, so it allocates
// nothing per frame once sizes settle.
type imageFeed struct {
	maskT float64 // the features' time of the silhouette last handed over
	fresh bool    // the screen is worth reading: a new generator frame shows
}

func newImageFeed() *imageFeed { return &imageFeed{maskT: -1, fresh: true} }

// screen reads the picture on screen back (scene.Game.ReadPicture): the
// part the model's frame covers, at w×h, as RGBA into pix.
type screen interface {
	ReadPicture(pix []byte, w, h int)
}

// cameraPictures gives the newest camera picture: picture fills dst with
// it, at the smallest size covering spec's, and reports whether there was
// a new one (dst is untouched when not).
type cameraPictures interface {
	picture(dst *gen.Picture, spec gen.ImageSpec) bool
}

// hand gives the runner its model's picture, when there is a new one: cam
// writes the camera's straight into the runner's next picture, feats is
// the newest analysis (nil without a camera), and shown says a new
// generator frame has just been uploaded, so the runner is ready for the
// next picture on screen. Reading the screen back costs a GPU round trip,
// so it happens at most once per generator frame. It runs on the game
// loop, the runner's one feeding goroutine.
func (f *imageFeed) hand(g screen, r *gen.Runner, spec gen.ImageSpec, cam cameraPictures, feats *vision.Features, shown bool) error {
	f.fresh = f.fresh || shown
	switch spec.Source {
	case gen.SourceCamera:
		if cam.picture(r.PictureBack(), spec) {
			return r.PublishPicture()
		}
	case gen.SourceMask:
		if feats != nil && feats.T != f.maskT && feats.MaskW > 0 && len(feats.Mask) == feats.MaskW*feats.MaskH {
			f.maskT = feats.T
			return r.SetImage(feats.Mask, feats.MaskW, feats.MaskH, 1)
		}
	case gen.SourceFeedback:
		if !f.fresh {
			return nil
		}
		f.fresh = false
		// Read straight into the runner's next picture: no copy after.
		p, n := r.PictureBack(), 4*spec.Width*spec.Height
		if cap(p.Pix) < n {
			p.Pix = make([]byte, n)
		}
		p.Pix = p.Pix[:n]
		p.Width, p.Height, p.Channels, p.BGR = spec.Width, spec.Height, 4, false
		g.ReadPicture(p.Pix, spec.Width, spec.Height)
		return r.PublishPicture()
	}
	return nil
}
