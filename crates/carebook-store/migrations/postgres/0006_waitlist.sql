-- The waitlist (seed 000's waitlist_entries) and the offers that hold freed slots for it.
--
-- An offer holds its slot as an appointment in the new status `offered`: the same exclusion
-- constraints that stop double bookings then stop anyone else booking the offered time, on
-- every path. Accepting turns it into an ordinary booking (`assigned_from_waitlist`);
-- declining or letting it run out cancels it, which frees the slot for the next entry.

ALTER TABLE appointments DROP CONSTRAINT appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check CHECK (status IN ('offered',
    'pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress', 'completed',
    'cancelled', 'no_show'));
ALTER TABLE appointments DROP CONSTRAINT appointments_no_overlap;
ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
    provider_id WITH =, tstzrange(busy_start_at, busy_end_at, '[)') WITH &&
) WHERE (status IN ('offered', 'pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress'));
ALTER TABLE appointments DROP CONSTRAINT appointments_patient_no_overlap;
ALTER TABLE appointments ADD CONSTRAINT appointments_patient_no_overlap EXCLUDE USING gist (
    patient_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&
) WHERE (status IN ('offered', 'pending_payment', 'scheduled', 'confirmed', 'checked_in', 'in_progress'));

CREATE TABLE waitlist_entries (
    id                  uuid PRIMARY KEY,
    clinic_id           uuid NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    patient_id          uuid NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    service_id          uuid NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
    -- NULL: any provider who delivers the service.
    provider_id         uuid REFERENCES providers (id) ON DELETE RESTRICT,
    mode                text CHECK (mode IN ('in_person', 'video')),
    -- Both NULL: the first available time. Local dates of the clinic.
    requested_from      date,
    requested_to        date,
    priority            text NOT NULL DEFAULT 'standard' CHECK (priority IN ('standard', 'urgent', 'emergency')),
    -- 1-based place among the clinic's waiting entries of the same priority.
    position            bigint NOT NULL CHECK (position > 0),
    notes               text,
    status              text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'assigned', 'cancelled', 'expired')),
    appointment_id      uuid REFERENCES appointments (id) ON DELETE SET NULL,
    created_by_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    assigned_at         timestamptz,
    closed_at           timestamptz,
    close_reason        text,
    CHECK (requested_from IS NULL OR requested_to IS NULL OR requested_from <= requested_to),
    CHECK (status <> 'assigned' OR (appointment_id IS NOT NULL AND assigned_at IS NOT NULL))
);
-- One open entry per patient and service.
CREATE UNIQUE INDEX waitlist_entries_open_key ON waitlist_entries (patient_id, service_id)
    WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_entries_queue_idx ON waitlist_entries (clinic_id, status, priority, position);
CREATE INDEX waitlist_entries_patient_idx ON waitlist_entries (patient_id, created_at);

CREATE TABLE waitlist_offers (
    id             uuid PRIMARY KEY,
    entry_id       uuid NOT NULL REFERENCES waitlist_entries (id) ON DELETE CASCADE,
    appointment_id uuid NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    provider_id    uuid NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    start_at       timestamptz NOT NULL,
    end_at         timestamptz NOT NULL,
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    offered_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    responded_at   timestamptz,
    CHECK (expires_at > offered_at)
);
-- Nothing is offered twice at once: one open offer per entry (a slot's one hold is its
-- appointment row, which the exclusion constraints keep unique).
CREATE UNIQUE INDEX waitlist_offers_one_open ON waitlist_offers (entry_id) WHERE status = 'open';
CREATE INDEX waitlist_offers_entry_idx ON waitlist_offers (entry_id, provider_id, start_at);
CREATE INDEX waitlist_offers_appointment_idx ON waitlist_offers (appointment_id);

INSERT INTO permissions (name, description) VALUES
  ('waitlist.read', 'Read the clinic''s waitlist'),
  ('waitlist.manage', 'Add to the waitlist, reorder it, assign and withdraw offers');
INSERT INTO role_permissions (role, permission) VALUES
  ('super_admin', 'waitlist.read'),
  ('super_admin', 'waitlist.manage'),
  ('admin', 'waitlist.read'),
  ('admin', 'waitlist.manage'),
  ('receptionist', 'waitlist.read'),
  ('receptionist', 'waitlist.manage'),
  ('provider', 'waitlist.read');
