#!/usr/bin/env bash
# A private Dovecot (Debian's dovecot-imapd) for the e2e tests: IMAP with TLS from the first
# byte and with STARTTLS, a certificate for 127.0.0.1 made here (clients trust <state>/dovecot/
# cert.pem), users from <state>/dovecot/users (passwd-file lines `user:{PLAIN}password::::::`,
# re-read at every login), mail in <state>/dovecot/mail/<user>/Maildir (an MTA's delivery is a
# file in its new/), and its auth service on a TCP port for the SMTP server's SASL.
# <state dir> and its parents must be traversable by nobody (use /tmp).
#   tests/mail/dovecot.sh start <state dir> <imaps port> <imap port> <auth port>
#   tests/mail/dovecot.sh stop <state dir>
set -euo pipefail
cmd=$1 state=$2
dir="$state/dovecot"
sudo=""  # Dovecot's master runs as root and drops to nobody for mail
[ "$(id -u)" -ne 0 ] && sudo="sudo"
case "$cmd" in
  start)
    imaps=$3 imap=$4 auth=$5
    mkdir -p "$dir/run" "$dir/mail"
    chmod 0755 "$state" "$dir"
    chmod 0777 "$dir/mail"  # mail is nobody's; the tests deliver into it as themselves
    touch "$dir/users"
    chmod 0644 "$dir/users"
    [ -f "$dir/cert.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
    cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/run
log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
ssl = required
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem
auth_mechanisms = plain login
passdb {
  driver = passwd-file
  args = $dir/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
    ssl = yes
  }
}
service auth {
  inet_listener {
    address = 127.0.0.1
    port = $auth
  }
}
CONF
    $sudo dovecot -c "$dir/dovecot.conf"
    ;;
  stop)
    [ -f "$dir/dovecot.conf" ] && $sudo doveadm -c "$dir/dovecot.conf" stop >/dev/null 2>&1 || true
    ;;
esac
