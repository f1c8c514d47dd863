package httpapi

import (
	"net"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// requestIDForm is what a caller's X-Request-Id may be to be kept: short, and of
// characters that cannot forge a log line or a header. Anything else is replaced by an id
// of the service's own.
var requestIDForm = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// safeRequestID drops a caller's X-Request-Id that is not of requestIDForm, so that the
// request id middleware makes one.
func safeRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if id := c.Request().Header.Get(echo.HeaderXRequestID); id != "" && !requestIDForm.MatchString(id) {
			c.Request().Header.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// noStore marks every API answer as not to be cached or sniffed: they carry patients'
// data (numbers, transcripts, summaries), which no browser or shared cache may keep, and
// a browser must not read one as a type other than the one it declares.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h.Set(echo.HeaderCacheControl, "no-store")
		}
		return next(c)
	}
}

// clientAddress reads who the client is: the peer, or, when the peer is one of the
// trusted proxies, what it says in X-Forwarded-For (then X-Real-IP). Without trusted
// proxies, those headers are anyone's to forge and are ignored.
func clientAddress(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		opts = append(opts, echo.TrustIPRange(p))
	}
	xff := echo.ExtractIPFromXFFHeader(opts...)
	realIP := echo.ExtractIPFromRealIPHeader(opts...)
	return func(r *http.Request) string {
		if r.Header.Get(echo.HeaderXForwardedFor) != "" {
			return xff(r)
		}
		return realIP(r)
	}
}

// crossOrigin lets pages of the given origins (the SPA's) call the API from a browser:
// preflights are answered before anything else looks at the request, the headers a
// client needs to read (the request id, VAPI's share of a hand-off) are exposed, and any
// other origin gets no CORS headers, so the browser keeps the answer from its page. No
// cookies are involved: the API authenticates with a bearer token. The webhooks are
// called by servers, never by a page.
func crossOrigin(origins []string) echo.MiddlewareFunc {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[strings.TrimRight(o, "/")] = true
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper: isWebhook,
		// Exact origins only: no wildcard, and none at all when none is configured (Echo's
		// default would be every origin).
		AllowOriginFunc: func(origin string) (bool, error) { return allowed[origin], nil },
		AllowMethods:    []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodDelete},
		AllowHeaders:    []string{echo.HeaderAuthorization, echo.HeaderContentType, echo.HeaderXRequestID, "Last-Event-ID"},
		ExposeHeaders:   []string{echo.HeaderXRequestID, echo.HeaderContentDisposition, echo.HeaderAllow},
		MaxAge:          600,
	})
}
