package parse

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// PushProvider delivers notifications to devices: APNs, FCM, Web Push (see
// the packages under push/), or anything else.
type PushProvider interface {
	// PushTypes lists the deviceTypes the provider delivers to.
	// Installations of other types are skipped: neither sent nor failed.
	PushTypes() []string
	// Send delivers one notification to devices and reports each device's
	// outcome. An error means no device's outcome is known: the whole
	// batch is tried again later, with backoff.
	Send(ctx context.Context, n PushNotification, devices []PushDevice) ([]PushResult, error)
}

// PushNotification is what a provider sends.
type PushNotification struct {
	// PushStatusID names the push's _PushStatus.
	PushStatusID string
	// Data is the push's data for these devices: the alert and title of
	// their locale, and their own badge when the push increments it.
	Data map[string]any
	// Expiration, when not zero, is when the notification stops being
	// worth delivering (APNs apns-expiration, FCM ttl, Web Push TTL).
	Expiration time.Time
}

// PushDevice is one installation a notification goes to.
type PushDevice struct {
	// InstallationID is the objectId of the _Installation.
	InstallationID string
	DeviceToken    string
	DeviceType     string
	PushType       string
	AppIdentifier  string
}

// PushResult is the outcome of a delivery to one device.
type PushResult struct {
	Device PushDevice
	// Sent reports the provider accepted the notification.
	Sent bool
	// Error is the provider's reason when it did not.
	Error string
	// InvalidToken reports the provider knows the token no more (APNs
	// Unregistered or BadDeviceToken, FCM UNREGISTERED, Web Push 404 or
	// 410): with PushConfig.CleanupInvalidInstallations, the installation
	// loses its deviceToken.
	InvalidToken bool
	// Retry reports a passing failure (throttling, a server error): the
	// device is tried again later, with backoff.
	Retry bool
}

// PushByType combines providers, one per deviceType ("ios", "android",
// "web", ...): each device goes to the provider of its type.
type PushByType map[string]PushProvider

// PushTypes returns the types that have a provider, sorted.
func (m PushByType) PushTypes() []string {
	var types []string
	for t := range m {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// Send hands each provider its devices, one after another. A provider's
// error fails the whole batch, so that the batch is retried: the devices
// that did get it may get it twice.
func (m PushByType) Send(ctx context.Context, n PushNotification, devices []PushDevice) ([]PushResult, error) {
	byType := map[string][]PushDevice{}
	for _, d := range devices {
		byType[d.DeviceType] = append(byType[d.DeviceType], d)
	}
	var out []PushResult
	for _, t := range m.PushTypes() {
		if len(byType[t]) == 0 {
			continue
		}
		res, err := m[t].Send(ctx, n, byType[t])
		if err != nil {
			return nil, fmt.Errorf("push to %s: %w", t, err)
		}
		out = append(out, res...)
	}
	return out, nil
}
