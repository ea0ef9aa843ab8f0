package control

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
)

// cookieName holds the panel's session after it was opened with ?token=.
const cookieName = "reverie_session"

// auth guards every route except /healthz (a liveness probe reveals nothing
// and must work for systemd and load balancers without secrets). An empty
// token means no guard, which Validate only allows on loopback.
type auth struct {
	token   string
	session string // the cookie's value: derived, so the cookie is not the token
	log     *limiter
}

func newAuth(token string) *auth {
	a := &auth{token: token, log: newLimiter(10e9)}
	if token != "" {
		sum := sha256.Sum256([]byte("reverie-panel-session\x00" + token))
		a.session = hex.EncodeToString(sum[:])
	}
	return a
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (a *auth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.token == "" || r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if t, ok := bearer(r.Header.Get("Authorization")); ok && equal(t, a.token) {
			next.ServeHTTP(w, r)
			return
		}
		if c, err := r.Cookie(cookieName); err == nil && equal(c.Value, a.session) {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		if t := q.Get("token"); t != "" && equal(t, a.token) {
			// Once: set the session cookie and drop the token from the
			// address bar, so it is not kept in history or shared by a
			// copied link.
			http.SetCookie(w, &http.Cookie{Name: cookieName, Value: a.session, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
			q.Del("token")
			u := *r.URL
			u.RawQuery = q.Encode()
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if ok, n := a.log.allow("401"); ok {
			// The remote address only: the request line may carry a token.
			slog.Warn("control: request without a valid token refused", "remote", r.RemoteAddr, "path", r.URL.Path, "refused_since_last_log", n)
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="reverie"`)
		httpError(w, http.StatusUnauthorized, "a valid access token is required: send Authorization: Bearer TOKEN, or open the panel once with ?token=TOKEN")
	})
}

// bearer reads the token of an Authorization header. The scheme is
// case-insensitive (RFC 7235), so "bearer TOKEN" works too.
func bearer(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	cred = strings.TrimLeft(cred, " ")
	return cred, cred != ""
}
