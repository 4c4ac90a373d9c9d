package web

import (
	"encoding/json"
	"net/url"
	"strings"
)

// ShareX is a ShareX custom uploader (.sxcu) that uploads to the API.
// URL is {json:url}, the entry's page, not {json:media_url}: the page
// works at once and for every format (a HEIC original is a download, its
// page shows the preview), keeps its address if media move to a CDN, and
// carries the title, comment and history.
type ShareX struct {
	Version         string            `json:"Version"`
	Name            string            `json:"Name"`
	DestinationType string            `json:"DestinationType"`
	RequestMethod   string            `json:"RequestMethod"`
	RequestURL      string            `json:"RequestURL"`
	Headers         map[string]string `json:"Headers"`
	Body            string            `json:"Body"`
	Arguments       map[string]string `json:"Arguments"`
	FileFormName    string            `json:"FileFormName"`
	URL             string            `json:"URL"`
	ThumbnailURL    string            `json:"ThumbnailURL"`
	DeletionURL     string            `json:"DeletionURL"`
	ErrorMessage    string            `json:"ErrorMessage"`
}

// ShareXConfig is the .sxcu file for the site at base (its public URL)
// and a token with the upload scope.
func ShareXConfig(base, token string) ([]byte, error) {
	base = strings.TrimSuffix(base, "/")
	name := "mediashare"
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		name += " (" + u.Host + ")"
	}
	b, err := json.MarshalIndent(ShareX{
		Version: "15.0.0", Name: name, DestinationType: "ImageUploader", RequestMethod: "POST",
		RequestURL:   base + "/api/v1/entries",
		Headers:      map[string]string{"Authorization": "Bearer " + token},
		Body:         "MultipartFormData",
		Arguments:    map[string]string{"title": "{filename}", "comment": "Shared with ShareX"},
		FileFormName: "file",
		URL:          "{json:url}", ThumbnailURL: "{json:thumbnail_url}", DeletionURL: "{json:deletion_url}",
		ErrorMessage: "{json:error.message}",
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
