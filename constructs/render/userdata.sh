#!/bin/bash
# renderenv render node bootstrap. The AMI is the studio's hardened image
# (ISE 4.2, 10.8); this only points the CloudWatch agent at the production's
# encrypted log group and makes sure Session Manager is the way in (ISE 4.1).
set -euo pipefail
LOG_GROUP='__LOG_GROUP__'
cfg=/opt/aws/amazon-cloudwatch-agent/etc/renderenv.json
if [ -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl ]; then
  cat > "$cfg" <<JSON
{"logs":{"logs_collected":{"files":{"collect_list":[
  {"file_path":"/var/log/messages","log_group_name":"${LOG_GROUP}","log_stream_name":"{instance_id}/messages"},
  {"file_path":"/var/log/render/*.log","log_group_name":"${LOG_GROUP}","log_stream_name":"{instance_id}/render"}
]}}}}
JSON
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -c "file:$cfg" -s
fi
# No SSH: access is through Session Manager only.
systemctl disable --now sshd 2>/dev/null || true
systemctl enable --now amazon-ssm-agent 2>/dev/null || true
