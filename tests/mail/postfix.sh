#!/usr/bin/env bash
# A private Postfix (Debian's, as root) for the e2e tests, configured as docs/channels/email.md
# tells operators: mail for the inbound domain goes through the pipe(8) transport to
# deploy/mail/loket-mail-post, which posts it to the MIME ingress. Nothing else is delivered.
# <state dir> and its parents must be traversable by the postfix and nobody users (use /tmp).
#   tests/mail/postfix.sh start <state dir> <smtp port> <ingress URL> <password file> <domain>
#   tests/mail/postfix.sh stop <state dir>
# Or, in <state dir>/submission, the SMTP server a workspace's own mailbox sends through:
# STARTTLS (the certificate given), AUTH through Dovecot's auth service on a TCP port
# (tests/mail/dovecot.sh), mail relayed only for authenticated clients, and every message
# delivered into the maildir <state dir>/submission/sink (new/), where the tests read it.
#   tests/mail/postfix.sh start-submission <state dir> <port> <auth port> <cert.pem> <key.pem>
#   tests/mail/postfix.sh stop-submission <state dir>
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cmd=$1 state=$2
conf="$state/postfix/etc"
sudo=""  # Postfix's master runs as root
[ "$(id -u)" -ne 0 ] && sudo="sudo"
case "$cmd" in
  start)
    port=$3 ingress=$4 password_file=$5 domain=$6
    mkdir -p "$conf" "$state/postfix/spool" "$state/postfix/data"
    chmod 0755 "$state" "$state/postfix"  # the postfix user and the pipe's user reach in
    $sudo chown postfix "$state/postfix/data"
    install -m 0755 "$ROOT/deploy/mail/loket-mail-post" "$state/postfix/loket-mail-post"
    chmod 0644 "$password_file"
    # Every service of Debian's master.cf, unchrooted (the private spool has no chroot tree),
    # SMTP on a loopback port, and the transport of docs/channels/email.md.
    awk -v port="$port" '
      /^smtp +inet/ { print "127.0.0.1:" port " inet n - n - - smtpd"; next }
      /^[a-z]/ && NF >= 8 { $5 = "n" }
      { print }' /etc/postfix/master.cf >"$conf/master.cf"
    cat >>"$conf/master.cf" <<CONF
loket     unix  -       n       n       -       10      pipe
  flags=R user=nobody argv=$state/postfix/loket-mail-post $ingress $password_file \${recipient}
CONF
    cat >"$conf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $state/postfix/spool
data_directory = $state/postfix/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.loket.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = $domain
transport_maps = inline:{$domain=loket:}
loket_destination_recipient_limit = 1
maillog_file_prefixes = $state/postfix
maillog_file = $state/postfix/maillog
smtpd_banner = \$myhostname ESMTP
CONF
    $sudo postfix -c "$conf" check
    $sudo postfix -c "$conf" start
    ;;
  stop)
    [ -d "$conf" ] && $sudo postfix -c "$conf" stop >/dev/null 2>&1 || true
    ;;
  start-submission)
    port=$3 auth=$4 cert=$5 key=$6
    sub="$state/submission"
    mkdir -p "$sub/etc" "$sub/spool" "$sub/data" "$sub/sink/new" "$sub/sink/cur" "$sub/sink/tmp"
    chmod 0755 "$state" "$sub"
    chmod -R 0777 "$sub/sink"  # the virtual(8) agent writes as nobody; the tests read as themselves
    $sudo chown postfix "$sub/data"
    awk -v port="$port" '
      /^smtp +inet/ { print "127.0.0.1:" port " inet n - n - - smtpd"; next }
      /^[a-z]/ && NF >= 8 { $5 = "n" }
      { print }' /etc/postfix/master.cf >"$sub/etc/master.cf"
    cat >"$sub/etc/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $sub/spool
data_directory = $sub/data
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = smtp.shop.test
mydestination =
mynetworks =
smtpd_tls_security_level = may
smtpd_tls_cert_file = $cert
smtpd_tls_key_file = $key
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:$auth
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
virtual_mailbox_domains = static:all
virtual_mailbox_base = $sub
virtual_mailbox_maps = static:sink/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 1
maillog_file_prefixes = $sub
maillog_file = $sub/maillog
smtpd_banner = \$myhostname ESMTP
CONF
    $sudo postfix -c "$sub/etc" check
    $sudo postfix -c "$sub/etc" start
    ;;
  stop-submission)
    [ -d "$state/submission/etc" ] && $sudo postfix -c "$state/submission/etc" stop >/dev/null 2>&1 || true
    ;;
esac
