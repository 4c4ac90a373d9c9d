package views

import "strings"

// browserShows reports whether browsers generally display an original of
// this content type. HEIC they mostly do not (Safari alone): the entry page
// shows its preview (or thumbnail) and offers the original as a download.
func browserShows(contentType string) bool {
	return !strings.EqualFold(contentType, "image/heic")
}

// formatName names an original's format for the download link ("HEIC").
func formatName(contentType string) string {
	return strings.ToUpper(strings.TrimPrefix(strings.ToLower(contentType), "image/"))
}

// shownThumbnail reports whether the entry page shows the grid thumbnail in
// place of an original browsers cannot show (a small one, with no preview).
func shownThumbnail(e EntryDetail) bool {
	return e.Preview == "" && !browserShows(e.ContentType) && e.Status == Ready && e.Thumbnail != ""
}
