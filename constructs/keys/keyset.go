package keys

import (
	"fmt"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// KeySetProps describes the keys of one production or pool.
type KeySetProps struct {
	// AliasPrefix, e.g. acme/nightfall: aliases are alias/<prefix>/<purpose>.
	AliasPrefix string
	Owner       string // for descriptions
	Account     string
	Region      string
	Purposes    []Purpose
	// AssetUsers are role ARN patterns that may use the content-asset key,
	// through S3 only.
	AssetUsers []string
	// LogReaders are role ARN patterns that may decrypt logs.
	LogReaders []string
	// VolumeUsers are role ARN patterns that may have EC2 encrypt volumes
	// with the root-volume and content-asset keys (the launcher); empty
	// leaves that to every principal of the account, as aws/ebs does.
	VolumeUsers []string
	// AssetVolumeUsers, when set, replace VolumeUsers on the content-asset
	// key: a pool's productions that take only its root-volume key from it
	// have no use for its content-asset key.
	AssetVolumeUsers []string
	// SessionHosts (render nodes) and SessionStarters (people) use the
	// logging key for Session Manager's session encryption.
	SessionHosts, SessionStarters []string
	// Admins administer every key of the set (KeyProps.Admins).
	Admins []string
	// AlarmTopics lets CloudWatch alarms of the account publish to topics
	// encrypted with the logging key (an account that watches its own
	// trail).
	AlarmTopics bool
}

var purposeText = map[Purpose]string{
	RootVolume:   "encrypts render node root volumes",
	ContentAsset: "encrypts content: the asset bucket and scratch volumes",
	Logging:      "encrypts flow logs, session logs and render logs",
}

// NewKeySet creates one key per purpose, each allowed exactly the use its
// purpose needs.
func NewKeySet(scope constructs.Construct, id string, props KeySetProps) map[Purpose]*Key {
	c := constructs.NewConstruct(scope, jsii.String(id))
	out := map[Purpose]*Key{}
	for _, p := range props.Purposes {
		k := NewKey(c, string(p), KeyProps{
			Alias:       props.AliasPrefix + "/" + string(p),
			Description: fmt.Sprintf("%s %s key: %s", props.Owner, p, purposeText[p]),
			Account:     props.Account,
			Admins:      props.Admins,
		})
		switch p {
		case RootVolume:
			k.AllowEbs(props.Region, props.VolumeUsers)
			k.AllowFleetLaunchers(props.Region)
		case ContentAsset:
			volumes := props.VolumeUsers
			if props.AssetVolumeUsers != nil {
				volumes = props.AssetVolumeUsers
			}
			// An empty list of pool users means nobody, not everyone.
			if props.AssetVolumeUsers == nil || len(volumes) > 0 {
				k.AllowEbs(props.Region, volumes)
			}
			k.AllowFleetLaunchers(props.Region)
			if len(props.AssetUsers) > 0 {
				k.AllowUseVia("AssetUsersThroughS3Only", props.AssetUsers, fmt.Sprintf("s3.%s.amazonaws.com", props.Region))
			}
		case Logging:
			k.AllowLogs(props.Region)
			if len(props.LogReaders) > 0 {
				k.AllowDecrypt("LogReadersDecrypt", props.LogReaders)
			}
			if len(props.SessionHosts) > 0 && len(props.SessionStarters) > 0 {
				k.AllowSessions(props.SessionHosts, props.SessionStarters)
			}
			if props.AlarmTopics {
				k.AllowAlarms(props.Account)
			}
		}
		out[p] = k
	}
	return out
}
