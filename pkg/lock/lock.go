// Package lock makes sure two runs never change one env at once. The lock
// is an S3 object written with a conditional write (If-None-Match: *), so
// taking it is atomic without any other service.
package lock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/litentry/envctl/pkg/awsapi"
)

// ErrHeld: another run holds the lock.
var ErrHeld = errors.New("lock held")

// Info is what the lock object holds.
type Info struct {
	ID      string    `json:"id"`
	Who     string    `json:"who"`
	Env     string    `json:"env"`
	Command string    `json:"command"`
	Created time.Time `json:"created"`
}

func (i Info) String() string {
	return fmt.Sprintf("%s (%s, since %s, lock id %s)", i.Who, i.Command, i.Created.UTC().Format(time.RFC3339), i.ID)
}

// Lock is a held lock.
type Lock struct {
	client *s3.Client
	bucket string
	key    string
	Info   Info
}

// Options say where the lock lives and how long to wait for it.
type Options struct {
	Bucket  string
	Key     string
	Env     string
	Command string
	// Timeout is how long to wait for a held lock; 0 fails at once.
	Timeout time.Duration
	// Poll is the wait between attempts; 0 means 2 s.
	Poll time.Duration
}

// Acquire takes the lock or, when another run holds it, fails with ErrHeld
// naming the holder (after waiting up to Timeout).
func Acquire(ctx context.Context, c *s3.Client, o Options) (*Lock, error) {
	info := Info{ID: newID(), Who: who(), Env: o.Env, Command: o.Command, Created: time.Now().UTC()}
	body, _ := json.Marshal(info)
	deadline := time.Now().Add(o.Timeout)
	poll := o.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	for {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket:      aws.String(o.Bucket),
			Key:         aws.String(o.Key),
			Body:        bytes.NewReader(body),
			IfNoneMatch: aws.String("*"),
			ContentType: aws.String("application/json"),
		})
		if err == nil {
			return &Lock{client: c, bucket: o.Bucket, key: o.Key, Info: info}, nil
		}
		// 409 ConditionalRequestConflict: a racing write; try again.
		if !awsapi.IsCode(err, "PreconditionFailed", "ConditionalRequestConflict") && awsapi.HTTPStatus(err) != 412 {
			return nil, fmt.Errorf("take lock s3://%s/%s: %w", o.Bucket, o.Key, err)
		}
		if time.Now().After(deadline) {
			holder, herr := Read(ctx, c, o.Bucket, o.Key)
			if herr != nil {
				return nil, fmt.Errorf("%w: s3://%s/%s is held (holder unreadable: %v)", ErrHeld, o.Bucket, o.Key, herr)
			}
			return nil, fmt.Errorf("%w: env %s is locked by %s; wait for it to finish, or if that run is dead: envctl force-unlock --env %s %s", ErrHeld, o.Env, holder, o.Env, holder.ID)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// Read returns the holder of the lock object.
func Read(ctx context.Context, c *s3.Client, bucket, key string) (Info, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return Info{}, fmt.Errorf("read lock s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return Info{}, fmt.Errorf("read lock s3://%s/%s: %w", bucket, key, err)
	}
	var info Info
	if err := json.Unmarshal(data, &info); err != nil {
		return Info{}, fmt.Errorf("lock s3://%s/%s is not an envctl lock: %w", bucket, key, err)
	}
	return info, nil
}

// Release deletes the lock if it is still this run's. It uses a context
// that outlives cancellation, because releasing after Ctrl-C is the point.
func (l *Lock) Release(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return remove(ctx, l.client, l.bucket, l.key, l.Info.ID)
}

// ForceUnlock removes a stale lock, but only the one with the given id, so
// a lock taken since by another run is never broken by mistake.
func ForceUnlock(ctx context.Context, c *s3.Client, bucket, key, id string) error {
	return remove(ctx, c, bucket, key, id)
}

func remove(ctx context.Context, c *s3.Client, bucket, key, id string) error {
	holder, err := Read(ctx, c, bucket, key)
	if awsapi.IsCode(err, "NoSuchKey") || awsapi.IsNotFound(err) {
		return fmt.Errorf("no lock at s3://%s/%s", bucket, key)
	}
	if err != nil {
		return err
	}
	if holder.ID != id {
		return fmt.Errorf("lock s3://%s/%s is held by %s, not lock id %s; nothing removed", bucket, key, holder, id)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("remove lock s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// who names the run: the GitHub run when in Actions, else user@host.
func who() string {
	if run := os.Getenv("GITHUB_RUN_ID"); run != "" {
		return fmt.Sprintf("github run %s (%s, %s)", run, os.Getenv("GITHUB_REPOSITORY"), os.Getenv("GITHUB_ACTOR"))
	}
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}
