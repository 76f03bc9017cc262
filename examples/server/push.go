package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"

	"github.com/parsego/parse"
	"github.com/parsego/parse/push/apns"
	"github.com/parsego/parse/push/fcm"
	"github.com/parsego/parse/push/webpush"
)

// pushFile is the -push-config file: a provider per platform, each
// optional. Key files are named relative to the file.
//
//	{
//	  "ios":     {"keyFile": "AuthKey_ABC123.p8", "keyId": "ABC123", "teamId": "TEAM", "topic": "com.example.app", "production": true},
//	  "android": {"serviceAccountFile": "firebase-adminsdk.json"},
//	  "web":     {"vapidKeyFile": "vapid.pem", "subject": "mailto:ops@example.com"}
//	}
type pushFile struct {
	IOS *struct {
		KeyFile    string `json:"keyFile"`
		KeyID      string `json:"keyId"`
		TeamID     string `json:"teamId"`
		Topic      string `json:"topic"`
		Production bool   `json:"production"`
	} `json:"ios"`
	Android *struct {
		ServiceAccountFile string `json:"serviceAccountFile"`
	} `json:"android"`
	Web *struct {
		VAPIDKeyFile string `json:"vapidKeyFile"`
		Subject      string `json:"subject"`
	} `json:"web"`
}

// pushProvider reads a -push-config file and builds its providers: APNs
// for ios, osx and tvos, FCM for android, Web Push for web.
func pushProvider(path string) (parse.PushProvider, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f pushFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	read := func(name string) ([]byte, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		return os.ReadFile(name)
	}
	byType := parse.PushByType{}
	if c := f.IOS; c != nil {
		key, err := read(c.KeyFile)
		if err != nil {
			return nil, err
		}
		host := apns.SandboxHost
		if c.Production {
			host = apns.ProductionHost
		}
		p, err := apns.New(apns.Config{Key: key, KeyID: c.KeyID, TeamID: c.TeamID, Topic: c.Topic, Host: host})
		if err != nil {
			return nil, err
		}
		for _, t := range p.PushTypes() {
			byType[t] = p
		}
	}
	if c := f.Android; c != nil {
		sa, err := read(c.ServiceAccountFile)
		if err != nil {
			return nil, err
		}
		if byType["android"], err = fcm.New(fcm.Config{ServiceAccount: sa}); err != nil {
			return nil, err
		}
	}
	if c := f.Web; c != nil {
		key, err := read(c.VAPIDKeyFile)
		if err != nil {
			return nil, err
		}
		if byType["web"], err = webpush.New(webpush.Config{VAPIDKey: key, Subject: c.Subject}); err != nil {
			return nil, err
		}
	}
	if len(byType) == 0 {
		return nil, errors.New("the file configures no provider (ios, android, web)")
	}
	return byType, nil
}
