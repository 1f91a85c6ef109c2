-- What Postfix and Dovecot may read of a Stackyard database on PostgreSQL:
-- the columns of the mail tables their lookups use, and nothing else (not
-- the accounts, sessions, audit log, nor the sealed TSIG and DKIM secrets).
--
-- Run it in Stackyard's database as its owner (again after an upgrade), then
-- give the daemons a login role of their own that is a member:
--
--   psql -d stackyard -f scripts/mail-reader.sql
--   psql -d stackyard -c "CREATE ROLE mailreader LOGIN PASSWORD '…' IN ROLE stackyard_mail"
--
-- and enter that role and password in the console's mail server
-- configuration form (Mail → a domain → Server configuration).

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stackyard_mail') THEN
    CREATE ROLE stackyard_mail NOLOGIN;
  END IF;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM stackyard_mail;
GRANT USAGE ON SCHEMA public TO stackyard_mail;
GRANT SELECT (name, active) ON mail_domain TO stackyard_mail;
GRANT SELECT (address, domain, password, maildir, quota_bytes, active) ON mailbox TO stackyard_mail;
GRANT SELECT (source, destination, active) ON mail_alias TO stackyard_mail;
