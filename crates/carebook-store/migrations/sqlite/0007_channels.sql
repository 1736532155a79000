-- Channels other than email: device tokens for push, per-channel opt-outs on patients, and a
-- clinic's notification settings (the order channels are tried in, its own sender address).
-- See docs/data-model.md (push_tokens, patients, clinic_notification_settings).

CREATE TABLE push_tokens (
    id                  BLOB PRIMARY KEY,
    user_id             BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token               TEXT NOT NULL CHECK (length(token) BETWEEN 1 AND 4096),
    platform            TEXT NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    device_name         TEXT CHECK (length(device_name) <= 200),
    is_active           INTEGER NOT NULL DEFAULT 1,
    last_used_at        INTEGER,
    created_at          INTEGER NOT NULL,
    deactivated_at      INTEGER,
    deactivation_reason TEXT,
    CONSTRAINT push_tokens_token_key UNIQUE (token),
    CHECK (is_active = (deactivated_at IS NULL))
) STRICT;
CREATE INDEX push_tokens_user_id_idx ON push_tokens (user_id) WHERE is_active;

-- notification_opt_out stays the switch for everything; these turn off one channel each.
ALTER TABLE patients ADD COLUMN email_opt_out INTEGER NOT NULL DEFAULT 0;
ALTER TABLE patients ADD COLUMN sms_opt_out INTEGER NOT NULL DEFAULT 0;
ALTER TABLE patients ADD COLUMN push_opt_out INTEGER NOT NULL DEFAULT 0;

CREATE TABLE clinic_notification_settings (
    clinic_id          BLOB PRIMARY KEY REFERENCES clinics (id) ON DELETE CASCADE,
    -- The channels a patient message tries, first that the patient can receive wins.
    channel_order      TEXT NOT NULL DEFAULT '["push","sms","email"]',
    -- Sender of the clinic's emails (`Name <address>`); null: the server's mail_from.
    email_from         TEXT CHECK (length(email_from) <= 320),
    updated_at         INTEGER NOT NULL,
    updated_by_user_id BLOB REFERENCES users (id) ON DELETE SET NULL
) STRICT;

-- A patient's and an appointment's messages, newest first, for the history routes.
CREATE INDEX notifications_patient_id_idx ON notifications (recipient_patient_id, id);

INSERT INTO permissions (name, description) VALUES
  ('notifications.read', 'Read the notification history of patients and appointments'),
  ('notifications.manage', 'Set patients'' notification opt-outs and language'),
  ('notifications.own', 'A patient''s own notification opt-outs and language');
INSERT INTO role_permissions (role, permission) VALUES
  ('super_admin', 'notifications.read'),
  ('super_admin', 'notifications.manage'),
  ('admin', 'notifications.read'),
  ('admin', 'notifications.manage'),
  ('receptionist', 'notifications.read'),
  ('receptionist', 'notifications.manage'),
  ('patient', 'notifications.own');
