package httpapi

import (
	"context"

	"github.com/parsego/parse"
)

// ParseServerVersion is the version of Parse Server whose REST API the
// handler serves. GET /serverInfo reports it: Parse Dashboard shows it and
// decides on it which of its pages to offer.
const ParseServerVersion = "9.10.0"

// serverFeatures is GET /serverInfo's "features": what parsego serves, in
// the reference's shape, so that Parse Dashboard shows the pages that work
// and hides the others.
const serverFeatures = `{` +
	`"globalConfig":{"create":true,"read":true,"update":true,"delete":true},` +
	`"hooks":{"create":true,"read":true,"update":true,"delete":true},` +
	`"cloudCode":{"jobs":true},` +
	`"logs":{"level":true,"size":true,"order":true,"until":true,"from":true},` +
	`"push":{"immediatePush":true,"scheduledPush":true,"storedPushData":true,"pushAudiences":true,"localization":true},` +
	`"schemas":{"addField":true,"removeField":true,"addClass":true,"removeClass":true,"clearAllDataFromClass":true,` +
	`"exportClass":false,"editClassLevelPermissions":true,"editPointerPermissions":true},` +
	`"settings":{"securityCheck":false}}`

// serverInfo answers GET /serverInfo (the master key's only, as the
// reference): {"features":{...},"parseServerVersion":"9.10.0"}.
func (h *handler) serverInfo(ctx context.Context, b []byte) ([]byte, error) {
	if !parse.AuthFrom(ctx).Master {
		return b, errPermissionDenied()
	}
	b = append(b, `{"features":`...)
	b = append(b, serverFeatures...)
	b = append(b, `,"parseServerVersion":"`+ParseServerVersion+`"}`...)
	return b, nil
}
