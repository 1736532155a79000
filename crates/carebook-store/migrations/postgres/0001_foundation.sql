-- Carebook foundation: clinics (tenants), identity, roles and permissions, the notification
-- outbox and the append-only, hash-chained audit log. See docs/data-model.md.

CREATE TABLE clinics (
    id                        uuid PRIMARY KEY,
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug                      text NOT NULL,
    timezone                  text NOT NULL,
    address_line              text,
    city                      text,
    region                    text,
    country                   text,
    postal_code               text,
    latitude                  double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude                 double precision CHECK (longitude BETWEEN -180 AND 180),
    phone                     text,
    email                     text,
    website                   text,
    status                    text NOT NULL DEFAULT 'active' CHECK (status IN
                                  ('active', 'inactive', 'temporarily_closed', 'permanently_closed', 'suspended')),
    patient_self_registration boolean NOT NULL DEFAULT false,
    currency                  text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL,
    CONSTRAINT clinics_slug_key UNIQUE (slug)
);

CREATE TABLE roles (
    name          text PRIMARY KEY,
    description   text NOT NULL,
    spans_clinics boolean NOT NULL DEFAULT false
);

CREATE TABLE permissions (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z_]+\.[a-z_]+$'),
    description text NOT NULL
);

CREATE TABLE role_permissions (
    role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    permission text NOT NULL REFERENCES permissions (name) ON DELETE CASCADE,
    PRIMARY KEY (role, permission)
);

CREATE TABLE users (
    id                    uuid PRIMARY KEY,
    email                 text NOT NULL CHECK (email = lower(email)),
    name                  text NOT NULL,
    phone                 text,
    password_hash         text,
    role                  text NOT NULL REFERENCES roles (name),
    clinic_id             uuid REFERENCES clinics (id) ON DELETE RESTRICT,
    is_active             boolean NOT NULL DEFAULT true,
    email_verified_at     timestamptz,
    last_login_at         timestamptz,
    failed_login_attempts bigint NOT NULL DEFAULT 0 CHECK (failed_login_attempts >= 0),
    locked_until          timestamptz,
    mfa_enabled           boolean NOT NULL DEFAULT false,
    mfa_secret            text,
    mfa_last_used_step    bigint,
    preferred_language    text NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en', 'sw')),
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    deactivated_at        timestamptz,
    CONSTRAINT users_email_key UNIQUE (email),
    CHECK (NOT mfa_enabled OR mfa_secret IS NOT NULL)
);
CREATE INDEX users_clinic_id_idx ON users (clinic_id);
CREATE INDEX users_role_idx ON users (role);

CREATE TABLE patients (
    id                   uuid PRIMARY KEY,
    user_id              uuid REFERENCES users (id) ON DELETE SET NULL,
    name                 text NOT NULL,
    email                text,
    phone                text,
    date_of_birth        date,
    gender               text,
    preferred_language   text NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en', 'sw')),
    notification_opt_out boolean NOT NULL DEFAULT false,
    is_active            boolean NOT NULL DEFAULT true,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    CONSTRAINT patients_user_id_key UNIQUE (user_id)
);
CREATE INDEX patients_phone_idx ON patients (phone);
CREATE INDEX patients_email_idx ON patients (email);

CREATE TABLE patient_clinics (
    patient_id    uuid NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
    clinic_id     uuid NOT NULL REFERENCES clinics (id) ON DELETE CASCADE,
    registered_at timestamptz NOT NULL,
    PRIMARY KEY (patient_id, clinic_id)
);
CREATE INDEX patient_clinics_clinic_id_idx ON patient_clinics (clinic_id);

CREATE TABLE refresh_tokens (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id      uuid NOT NULL,
    token_hash     text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    revoked_at     timestamptz,
    revoked_reason text,
    ip             text,
    user_agent     text,
    CONSTRAINT refresh_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX refresh_tokens_user_id_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_id_idx ON refresh_tokens (family_id);

CREATE TABLE auth_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    token_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT auth_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX auth_tokens_user_id_idx ON auth_tokens (user_id, purpose);

CREATE TABLE mfa_recovery_codes (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  text NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    CONSTRAINT mfa_recovery_codes_user_code_key UNIQUE (user_id, code_hash)
);

CREATE TABLE external_identities (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer       text NOT NULL,
    subject      text NOT NULL,
    email        text,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    CONSTRAINT external_identities_issuer_subject_key UNIQUE (issuer, subject)
);
CREATE INDEX external_identities_user_id_idx ON external_identities (user_id);

CREATE TABLE notifications (
    id                   uuid PRIMARY KEY,
    clinic_id            uuid REFERENCES clinics (id) ON DELETE SET NULL,
    recipient_user_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    recipient_patient_id uuid REFERENCES patients (id) ON DELETE SET NULL,
    channel              text NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
    type                 text NOT NULL CHECK (type IN ('confirmation', 'reminder_24h', 'reminder_2h',
                             'cancellation', 'reschedule', 'waitlist_offer', 'waitlist_assigned',
                             'no_show_followup', 'password_reset', 'email_verification', 'general')),
    status               text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped', 'read')),
    destination          text,
    subject              text,
    body                 text NOT NULL,
    body_preview         text NOT NULL,
    appointment_id       uuid,
    waitlist_entry_id    uuid,
    attempts             bigint NOT NULL DEFAULT 0,
    last_error           text,
    idempotency_key      text NOT NULL,
    created_at           timestamptz NOT NULL,
    sent_at              timestamptz,
    read_at              timestamptz,
    CONSTRAINT notifications_idempotency_key_key UNIQUE (idempotency_key)
);
CREATE INDEX notifications_recipient_user_idx ON notifications (recipient_user_id, created_at);
CREATE INDEX notifications_recipient_patient_idx ON notifications (recipient_patient_id, created_at);
CREATE INDEX notifications_status_idx ON notifications (status, created_at);

CREATE TABLE audit_log (
    seq           bigint PRIMARY KEY CHECK (seq > 0),
    id            uuid NOT NULL UNIQUE,
    occurred_at   timestamptz NOT NULL,
    actor_user_id uuid,
    actor_role    text,
    action        text NOT NULL,
    entity_type   text NOT NULL,
    entity_id     text,
    clinic_id     uuid,
    old_values    jsonb,
    new_values    jsonb,
    ip            text,
    user_agent    text,
    request_id    text,
    prev_hash     text NOT NULL,
    hash          text NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, seq);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, seq);
CREATE INDEX audit_log_occurred_at_idx ON audit_log (occurred_at);

-- The audit log is append-only: the database itself refuses to change or remove a row.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Roles and permissions; the same list as carebook_domain::access (a store test compares them).
INSERT INTO roles (name, description, spans_clinics) VALUES
  ('super_admin', 'Runs the whole clinic network; every permission', true),
  ('admin', 'Administers one clinic (or the network when not bound to a clinic)', false),
  ('moderator', 'Moderates reviews and content', true),
  ('support', 'Helps users: reads accounts, unlocks them, reads the audit trail', true),
  ('receptionist', 'Front desk of a clinic', false),
  ('provider', 'Doctor or specialist delivering services', false),
  ('pharmacist', 'Pharmacy staff', false),
  ('patient', 'A patient using their own account', false),
  ('family_member', 'A relative with limited access to a patient', false);
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
