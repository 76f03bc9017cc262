package httpapi

import (
	"net/http"
	"strings"
)

// isHealth matches /health, which the reference serves for any method,
// before keys are checked.
func isHealth(path string) bool {
	p := strings.Trim(path, "/")
	return len(p) == len("health") && strings.EqualFold(p, "health")
}

func (h *handler) health(w http.ResponseWriter) {
	h.writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}
