package control

import (
	_ "embed"
	"net/http"
)

// panelHTML is the web panel: one self-contained page, so the binary serves
// it with no files beside it.
//
//go:embed web/index.html
var panelHTML []byte

func (s *Server) handlePanel(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
	_, _ = w.Write(panelHTML)
}
