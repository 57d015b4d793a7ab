package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moto is a running moto server (testdata/moto/server.py).
type moto struct {
	endpoint string // http://localhost:PORT: the CLI's S3 URLs need the host name
	region   string
	log      string // its output
}

// credentials of one account in moto.
type credentials struct {
	Account         string
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
}

// startMoto starts the server on a free port of 127.0.0.1 and stops it, by
// its pid, when the test ends. lambdaNodePath holds the AWS SDK that its
// Lambda runtime gives the functions.
func startMoto(ctx context.Context, t *testing.T, dir, lambdaNodePath, region string) *moto {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	m := &moto{endpoint: fmt.Sprintf("http://localhost:%d", port), region: region, log: filepath.Join(dir, "moto.log")}
	logFile, err := os.Create(m.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", filepath.Join(testdata, "moto", "server.py"), "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "LAMBDA_NODE_PATH="+lambdaNodePath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("moto's log, last lines:\n%s", tail(m.log, 60))
		}
	})

	for {
		resp, err := http.Get(m.endpoint + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m
			}
		}
		select {
		case <-exited:
			t.Fatalf("moto exited at start:\n%s", tail(m.log, 40))
		case <-ctx.Done():
			t.Fatalf("moto did not answer on %s: %v", m.endpoint, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// call sends one request to moto, signed only as far as moto reads it: the
// access key id, which names the account, and the service.
func (m *moto) call(ctx context.Context, c credentials, service, target string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=0", c.AccessKeyID, m.region, service))
	if target != "" {
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", service, target, resp.StatusCode, out)
	}
	return out, nil
}

// assumeRole enters account as a deployer does: with STS, from the default
// credentials. Moto keys every account by the access keys it issued.
func (m *moto) assumeRole(ctx context.Context, account string) (credentials, error) {
	form := url.Values{
		"Action":          {"AssumeRole"},
		"Version":         {"2011-06-15"},
		"RoleArn":         {"arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"},
		"RoleSessionName": {"renderenv-deploy-test"},
	}
	out, err := m.call(ctx, credentials{AccessKeyID: "testing"}, "sts", "", []byte(form.Encode()))
	if err != nil {
		return credentials{}, err
	}
	var resp struct {
		Credentials credentials `xml:"AssumeRoleResult>Credentials"`
	}
	if err := xml.Unmarshal(out, &resp); err != nil || resp.Credentials.AccessKeyID == "" {
		return credentials{}, fmt.Errorf("assuming a role in %s: %v: %s", account, err, out)
	}
	resp.Credentials.Account = account
	return resp.Credentials, nil
}

// anImage returns the id of an Amazon Linux 2 image that moto knows.
func (m *moto) anImage(ctx context.Context, c credentials) (string, error) {
	form := url.Values{
		"Action":           {"DescribeImages"},
		"Version":          {"2016-11-15"},
		"Owner.1":          {"amazon"},
		"Filter.1.Name":    {"name"},
		"Filter.1.Value.1": {"amzn2-ami-hvm-*-x86_64-gp2"},
	}
	out, err := m.call(ctx, c, "ec2", "", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	var resp struct {
		IDs []string `xml:"imagesSet>item>imageId"`
	}
	if err := xml.Unmarshal(out, &resp); err != nil || len(resp.IDs) == 0 {
		return "", fmt.Errorf("no Amazon Linux 2 image in moto: %v: %.300s", err, out)
	}
	return resp.IDs[0], nil
}

// putImageParameter stores an AMI id in SSM, where a studio keeps its render
// AMIs and the production stacks read them at deploy time.
func (m *moto) putImageParameter(ctx context.Context, c credentials, name, image string) error {
	body, _ := json.Marshal(map[string]any{"Name": name, "Value": image, "Type": "String", "DataType": "aws:ec2:image"})
	_, err := m.call(ctx, c, "ssm", "AmazonSSM.PutParameter", body)
	return err
}

// env is the environment of an AWS client of account c in moto: nothing from
// the caller's own AWS configuration.
func (m *moto) env(c credentials) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_SESSION_TOKEN="+c.SessionToken,
		"AWS_DEFAULT_REGION="+m.region,
		"AWS_REGION="+m.region,
		"AWS_ENDPOINT_URL="+m.endpoint,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
	)
}

// run runs a command in its own process group, which ctx's end kills, with
// its output in logPath; the error carries the output's last lines.
func run(ctx context.Context, dir string, env []string, logPath string, name string, args ...string) error {
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("%s %s: stopped at the test's deadline (%w); its last output:\n%s",
			filepath.Base(name), strings.Join(args, " "), ctx.Err(), tail(logPath, 30))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w; its last output:\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(logPath, 40))
	}
	return nil
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// parallel runs fs at once and returns their errors joined.
func parallel(fs ...func() error) error {
	errs := make(chan error, len(fs))
	for _, f := range fs {
		go func() { errs <- f() }()
	}
	var all []error
	for range fs {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}
