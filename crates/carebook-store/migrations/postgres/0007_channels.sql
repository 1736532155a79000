-- Channels other than email: device tokens for push, per-channel opt-outs on patients, and a
-- clinic's notification settings (the order channels are tried in, its own sender address).
-- See docs/data-model.md (push_tokens, patients, clinic_notification_settings).

CREATE TABLE push_tokens (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token               text NOT NULL CHECK (length(token) BETWEEN 1 AND 4096),
    platform            text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    device_name         text CHECK (length(device_name) <= 200),
    is_active           boolean NOT NULL DEFAULT true,
    last_used_at        timestamptz,
    created_at          timestamptz NOT NULL,
    deactivated_at      timestamptz,
    deactivation_reason text,
    CONSTRAINT push_tokens_token_key UNIQUE (token),
    CHECK (is_active = (deactivated_at IS NULL))
);
CREATE INDEX push_tokens_user_id_idx ON push_tokens (user_id) WHERE is_active;

-- notification_opt_out stays the switch for everything; these turn off one channel each.
ALTER TABLE patients
    ADD COLUMN email_opt_out boolean NOT NULL DEFAULT false,
    ADD COLUMN sms_opt_out   boolean NOT NULL DEFAULT false,
    ADD COLUMN push_opt_out  boolean NOT NULL DEFAULT false;

CREATE TABLE clinic_notification_settings (
    clinic_id          uuid PRIMARY KEY REFERENCES clinics (id) ON DELETE CASCADE,
    -- The channels a patient message tries, first that the patient can receive wins.
    channel_order      jsonb NOT NULL DEFAULT '["push","sms","email"]',
    -- Sender of the clinic's emails (`Name <address>`); null: the server's mail_from.
    email_from         text CHECK (length(email_from) <= 320),
    updated_at         timestamptz NOT NULL,
    updated_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL
);

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
