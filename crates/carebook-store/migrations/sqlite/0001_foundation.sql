-- Carebook foundation: clinics (tenants), identity, roles and permissions, the notification
-- outbox and the append-only, hash-chained audit log. See docs/data-model.md.
-- SQLite form: STRICT tables, uuids as 16-byte BLOBs, times as INTEGER epoch microseconds
-- (text timestamps sort wrongly), booleans as 0/1.

CREATE TABLE clinics (
    id                        BLOB PRIMARY KEY,
    name                      TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug                      TEXT NOT NULL,
    timezone                  TEXT NOT NULL,
    address_line              TEXT,
    city                      TEXT,
    region                    TEXT,
    country                   TEXT,
    postal_code               TEXT,
    latitude                  REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude                 REAL CHECK (longitude BETWEEN -180 AND 180),
    phone                     TEXT,
    email                     TEXT,
    website                   TEXT,
    status                    TEXT NOT NULL DEFAULT 'active' CHECK (status IN
                                  ('active', 'inactive', 'temporarily_closed', 'permanently_closed', 'suspended')),
    patient_self_registration INTEGER NOT NULL DEFAULT 0,
    currency                  TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3 AND currency = upper(currency)),
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL,
    CONSTRAINT clinics_slug_key UNIQUE (slug)
) STRICT;

CREATE TABLE roles (
    name          TEXT PRIMARY KEY,
    description   TEXT NOT NULL,
    spans_clinics INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE permissions (
    name        TEXT PRIMARY KEY CHECK (instr(name, '.') > 1),
    description TEXT NOT NULL
) STRICT;

CREATE TABLE role_permissions (
    role       TEXT NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission TEXT NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
) STRICT;

CREATE TABLE users (
    id                    BLOB PRIMARY KEY,
    email                 TEXT NOT NULL CHECK (email = lower(email)),
    name                  TEXT NOT NULL,
    phone                 TEXT,
    password_hash         TEXT,
    role                  TEXT NOT NULL REFERENCES roles (name),
    clinic_id             BLOB REFERENCES clinics (id) ON DELETE RESTRICT,
    is_active             INTEGER NOT NULL DEFAULT 1,
    email_verified_at     INTEGER,
    last_login_at         INTEGER,
    failed_login_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_login_attempts >= 0),
    locked_until          INTEGER,
    mfa_enabled           INTEGER NOT NULL DEFAULT 0,
    mfa_secret            TEXT,
    mfa_last_used_step    INTEGER,
    preferred_language    TEXT NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en', 'sw')),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    deactivated_at        INTEGER,
    CONSTRAINT users_email_key UNIQUE (email),
    CHECK (NOT mfa_enabled OR mfa_secret IS NOT NULL)
) STRICT;
CREATE INDEX users_clinic_id_idx ON users (clinic_id);
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE patients (
    id                   BLOB PRIMARY KEY,
    user_id              BLOB REFERENCES users (id) ON DELETE SET NULL,
    name                 TEXT NOT NULL,
    email                TEXT,
    phone                TEXT,
    date_of_birth        TEXT,
    gender               TEXT,
    preferred_language   TEXT NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en', 'sw')),
    notification_opt_out INTEGER NOT NULL DEFAULT 0,
    is_active            INTEGER NOT NULL DEFAULT 1,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    CONSTRAINT patients_user_id_key UNIQUE (user_id)
) STRICT;
CREATE INDEX patients_phone_idx ON patients (phone);
CREATE INDEX patients_email_idx ON patients (email);

CREATE TABLE patient_clinics (
    patient_id    BLOB NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    clinic_id     BLOB NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    registered_at INTEGER NOT NULL,
    PRIMARY KEY (patient_id, clinic_id)
) STRICT;
CREATE INDEX patient_clinics_clinic_id_idx ON patient_clinics (clinic_id);

CREATE TABLE refresh_tokens (
    id             BLOB PRIMARY KEY,
    user_id        BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id      BLOB NOT NULL,
    token_hash     TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    ip             TEXT,
    user_agent     TEXT,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
) STRICT;
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

CREATE TABLE auth_tokens (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    token_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    CONSTRAINT auth_tokens_token_hash_key UNIQUE (token_hash)
) STRICT;
CREATE INDEX auth_tokens_user_id_idx ON auth_tokens (user_id, purpose);

CREATE TABLE mfa_recovery_codes (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    CONSTRAINT mfa_recovery_codes_user_code_key UNIQUE (user_id, code_hash)
) STRICT;

CREATE TABLE external_identities (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    email        TEXT,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    CONSTRAINT external_identities_issuer_subject_key UNIQUE (issuer, subject)
) STRICT;
CREATE INDEX external_identities_user_id_idx ON external_identities (user_id);

CREATE TABLE notifications (
    id                   BLOB PRIMARY KEY,
    clinic_id            BLOB REFERENCES clinics (id) ON DELETE SET NULL,
    recipient_user_id    BLOB REFERENCES users (id) ON DELETE SET NULL,
    recipient_patient_id BLOB REFERENCES patients (id) ON DELETE SET NULL,
    channel              TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
    type                 TEXT NOT NULL CHECK (type IN ('confirmation', 'reminder_24h', 'reminder_2h',
                             'cancellation', 'reschedule', 'waitlist_offer', 'waitlist_assigned',
                             'no_show_followup', 'password_reset', 'email_verification', 'general')),
    status               TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'read')),
    destination          TEXT,
    subject              TEXT,
    body                 TEXT NOT NULL,
    body_preview         TEXT NOT NULL,
    appointment_id       BLOB,
    waitlist_entry_id    BLOB,
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_error           TEXT,
    idempotency_key      TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    sent_at              INTEGER,
    read_at              INTEGER,
    CONSTRAINT notifications_idempotency_key_key UNIQUE (idempotency_key)
) STRICT;
CREATE INDEX notifications_recipient_user_idx ON notifications (recipient_user_id, created_at);
CREATE INDEX notifications_recipient_patient_idx ON notifications (recipient_patient_id, created_at);
CREATE INDEX notifications_status_idx ON notifications (status, created_at);

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY CHECK (seq > 0),
    id            BLOB NOT NULL UNIQUE,
    occurred_at   INTEGER NOT NULL,
    actor_user_id BLOB,
    actor_role    TEXT,
    action        TEXT NOT NULL,
    entity_type   TEXT NOT NULL,
    entity_id     TEXT,
    clinic_id     BLOB,
    old_values    TEXT,
    new_values    TEXT,
    ip            TEXT,
    user_agent    TEXT,
    request_id    TEXT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, seq);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

-- The audit log is append-only: the database itself refuses to change or remove a row.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

-- Roles and permissions; the same list as carebook_domain::access (a store test compares them).
INSERT INTO roles (name, description, spans_clinics) VALUES
  ('super_admin', 'Runs the whole clinic network; every permission', 1),
  ('admin', 'Administers one clinic (or the network when not bound to a clinic)', 0),
  ('moderator', 'Moderates reviews and content', 1),
  ('support', 'Helps users: reads accounts, unlocks them, reads the audit trail', 1),
  ('receptionist', 'Front desk of a clinic', 0),
  ('provider', 'Doctor or specialist delivering services', 0),
  ('pharmacist', 'Pharmacy staff', 0),
  ('patient', 'A patient using their own account', 0),
  ('family_member', 'A relative with limited access to a patient', 0);
INSERT INTO permissions (name, description) VALUES
  ('users.read', 'List and read user accounts'),
  ('users.create', 'Create staff accounts'),
  ('users.update', 'Change a user''s name, phone, role or clinic'),
  ('users.deactivate', 'Deactivate and reactivate accounts'),
  ('users.unlock', 'Lift a login lockout'),
  ('identities.manage', 'Link and unlink external identities'),
  ('roles.read', 'Read roles and their permissions'),
  ('clinics.read', 'Read clinics'),
  ('clinics.create', 'Create clinics'),
  ('clinics.update', 'Change a clinic''s details and settings'),
  ('audit.read', 'Query the audit trail');
INSERT INTO role_permissions (role, permission) VALUES
  ('super_admin', 'users.read'),
  ('super_admin', 'users.create'),
  ('super_admin', 'users.update'),
  ('super_admin', 'users.deactivate'),
  ('super_admin', 'users.unlock'),
  ('super_admin', 'identities.manage'),
  ('super_admin', 'roles.read'),
  ('super_admin', 'clinics.read'),
  ('super_admin', 'clinics.create'),
  ('super_admin', 'clinics.update'),
  ('super_admin', 'audit.read'),
  ('admin', 'users.read'),
  ('admin', 'users.create'),
  ('admin', 'users.update'),
  ('admin', 'users.deactivate'),
  ('admin', 'users.unlock'),
  ('admin', 'identities.manage'),
  ('admin', 'roles.read'),
  ('admin', 'clinics.read'),
  ('admin', 'clinics.update'),
  ('admin', 'audit.read'),
  ('moderator', 'users.read'),
  ('moderator', 'roles.read'),
  ('moderator', 'clinics.read'),
  ('support', 'users.read'),
  ('support', 'users.unlock'),
  ('support', 'roles.read'),
  ('support', 'clinics.read'),
  ('support', 'audit.read'),
  ('receptionist', 'users.read'),
  ('receptionist', 'clinics.read'),
  ('provider', 'clinics.read'),
  ('pharmacist', 'clinics.read'),
  ('patient', 'clinics.read'),
  ('family_member', 'clinics.read');
