package recording

import (
	"context"
	"io"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// VODObject reads one object of stream's recording id for playback: name
// is relative to the recording's folder ("index.m3u8",
// "<rendition>/index.m3u8", "<rendition>/init<N>.mp4",
// "<rendition>/seg<MSN>.m4s"). found is false for anything else (the
// manifests and the index are the recorder's, not a player's) and for an
// object that does not exist.
func (r *Recorder) VODObject(ctx context.Context, stream, id, name string) (body []byte, found bool, err error) {
	if !playable(stream, id, name) {
		return nil, false, nil
	}
	key := r.keys.join(stream, id, name)
	err = r.bucket.call(ctx, "vod_get", func(ctx context.Context) error {
		out, err := r.bucket.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.bucket.name), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		body, err = io.ReadAll(out.Body)
		return err
	})
	if isNotFound(err) {
		return nil, false, nil
	}
	return body, err == nil, err
}

// playable: the path names a playlist or media object of a recording, and
// nothing outside it.
func playable(stream, id, name string) bool {
	for _, part := range []string{stream, id} {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, "/\\") {
			return false
		}
	}
	if name != path.Clean(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, "..") {
		return false
	}
	dir, file := path.Split(name)
	if dir == "" {
		return file == "index.m3u8"
	}
	if strings.Count(dir, "/") != 1 || dir == "../" {
		return false
	}
	switch {
	case file == "index.m3u8":
		return true
	case strings.HasPrefix(file, "init") && strings.HasSuffix(file, ".mp4"):
		return true
	default:
		_, ok := ParseSegmentName(file)
		return ok
	}
}
