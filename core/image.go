package core

import (
	"reverie/gen"
	"reverie/scene"
	"reverie/vision"
)

// imageFeed hands an image model (a manifest with image:) the picture its
// image.source names: the camera's, the audience's silhouette, or the
// picture on screen. Live and offline rendering share it. Its buffers are
// reused, so it allocates nothing per frame once sizes settle.
type imageFeed struct {
	fb    []byte  // the picture on screen, RGBA at the input's size
	maskT float64 // the features' time of the silhouette last handed over
	fresh bool    // the screen is worth reading: a new generator frame shows
}

func newImageFeed() *imageFeed { return &imageFeed{maskT: -1, fresh: true} }

// hand gives the runner its model's picture, when there is a new one: pic
// is the newest camera picture (nil when none is new), feats the newest
// analysis (nil without a camera), and shown says a new generator frame has
// just been uploaded, so the runner is ready for the next picture on
// screen. Reading the screen back costs a GPU round trip, so it happens at
// most once per generator frame. It runs on the game loop.
func (f *imageFeed) hand(g *scene.Game, r *gen.Runner, spec gen.ImageSpec, pic *vision.Picture, feats *vision.Features, shown bool) error {
	f.fresh = f.fresh || shown
	switch spec.Source {
	case gen.SourceCamera:
		if pic != nil {
			return r.SetImage(pic.Pix, pic.Width, pic.Height, pic.Channels)
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
		n := 4 * spec.Width * spec.Height
		if len(f.fb) != n {
			f.fb = make([]byte, n)
		}
		g.ReadPicture(f.fb, spec.Width, spec.Height)
		return r.SetImage(f.fb, spec.Width, spec.Height, 4)
	}
	return nil
}
