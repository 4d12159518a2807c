package guard

import (
	"fmt"
	"net/http"
)

// ServerHeaderBytes is the http.Server's MaxHeaderBytes for a guard that
// checks maxHeader (Config.MaxHeaderBytes): twice it, so that a request a
// little over the limit — a URL naming an object by a long name — is read
// and answered by the guard with the API's ErrorResult saying why (414 or
// 431), rather than by net/http's plain-text 431; beyond twice the limit
// net/http still stops reading.
func ServerHeaderBytes(maxHeader int) int { return 2 * maxHeader }

// headerSize is the size of r's request line and headers as they were
// sent (near enough: the names as net/http canonicalized them, one
// space after each colon).
func headerSize(r *http.Request) (uri, all int) {
	uri = len(r.RequestURI)
	all = len(r.Method) + 1 + uri + 1 + len(r.Proto) + 2
	all += len("Host: ") + len(r.Host) + 2
	for k, vs := range r.Header {
		for _, v := range vs {
			all += len(k) + 2 + len(v) + 2
		}
	}
	return uri, all + 2
}

// checkHeaderSize refuses a request whose URL (414) or request line and
// headers (431) are over Config.MaxHeaderBytes.
func (g *Guard) checkHeaderSize(r *http.Request) *Refusal {
	limit := g.cfg.MaxHeaderBytes
	if limit <= 0 {
		return nil
	}
	uri, all := headerSize(r)
	switch {
	case uri > limit:
		return &Refusal{Status: http.StatusRequestURITooLong, ID: "exception.webservices.uri.too.long",
			Details: fmt.Sprintf("The request's URL is %d bytes long; the engine reads at most %d bytes of a request's URL and headers (--max-header-size).", uri, limit),
			Action:  "Name the object by its reference (dvp ... list shows them) rather than by a name that long; the names clients give have at most 256 characters."}
	case all > limit:
		return &Refusal{Status: http.StatusRequestHeaderFieldsTooLarge, ID: "exception.webservices.headers.too.large",
			Details: fmt.Sprintf("The request's URL and headers are %d bytes; the engine reads at most %d (--max-header-size).", all, limit),
			Action:  "Send smaller headers, or start the engine with a larger --max-header-size."}
	}
	return nil
}
