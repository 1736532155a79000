-- The waitlist (seed 000's waitlist_entries) and the offers that hold freed slots for it.
--
-- An offer holds its slot as an appointment in the new status `offered`: the overlap checks
-- that stop double bookings then stop anyone else booking the offered time, on every path.
-- Accepting turns it into an ordinary booking (`assigned_from_waitlist`); declining or
-- letting it run out cancels it, which frees the slot for the next entry.
--
-- SQLite cannot change a CHECK in place, so `appointments` is rebuilt with the new status
-- (no table references it yet, so nothing else has to move).

CREATE TABLE appointments_rebuilt (
    id                     BLOB PRIMARY KEY,
    clinic_id              BLOB NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    number                 TEXT NOT NULL,
    patient_id             BLOB NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    provider_id            BLOB NOT NULL REFERENCES providers (id) ON DELETE RESTRICT,
    service_id             BLOB REFERENCES services (id) ON DELETE RESTRICT,
    status                 TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('offered', 'pending_payment', 'scheduled',
                               'confirmed', 'checked_in', 'in_progress', 'completed', 'cancelled', 'no_show')),
    priority               TEXT NOT NULL DEFAULT 'standard' CHECK (priority IN ('standard', 'urgent', 'emergency')),
    mode                   TEXT NOT NULL DEFAULT 'in_person' CHECK (mode IN ('in_person', 'video')),
    start_at               INTEGER NOT NULL,
    end_at                 INTEGER NOT NULL,
    busy_start_at          INTEGER NOT NULL,
    busy_end_at            INTEGER NOT NULL,
    local_date             TEXT NOT NULL,
    over_daily_cap         INTEGER NOT NULL DEFAULT 0,
    reason_for_visit       TEXT,
    notes                  TEXT,
    fee_minor              INTEGER CHECK (fee_minor >= 0),
    currency               TEXT CHECK (length(currency) = 3 AND currency = upper(currency)),
    hold_expires_at        INTEGER,
    assigned_from_waitlist INTEGER NOT NULL DEFAULT 0,
    booked_by_user_id      BLOB REFERENCES users (id) ON DELETE SET NULL,
    confirmed_at           INTEGER,
    checked_in_at          INTEGER,
    started_at             INTEGER,
    completed_at           INTEGER,
    cancelled_at           INTEGER,
    cancelled_by           BLOB REFERENCES users (id) ON DELETE SET NULL,
    cancellation_reason    TEXT,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CONSTRAINT appointments_clinic_number_key UNIQUE (clinic_id, number),
    CHECK (end_at > start_at),
    CHECK (busy_start_at <= start_at AND busy_end_at >= end_at),
    CHECK ((fee_minor IS NULL) = (currency IS NULL)),
    CHECK (status <> 'cancelled' OR (cancelled_at IS NOT NULL AND cancellation_reason IS NOT NULL))
) STRICT;

INSERT INTO appointments_rebuilt (id, clinic_id, number, patient_id, provider_id, service_id, status, priority, mode, start_at, end_at, busy_start_at, busy_end_at, local_date, over_daily_cap, reason_for_visit, notes, fee_minor, currency, hold_expires_at, assigned_from_waitlist, booked_by_user_id, confirmed_at, checked_in_at, started_at, completed_at, cancelled_at, cancelled_by, cancellation_reason, created_at, updated_at)
SELECT id, clinic_id, number, patient_id, provider_id, service_id, status, priority, mode, start_at, end_at, busy_start_at, busy_end_at, local_date, over_daily_cap, reason_for_visit, notes, fee_minor, currency, hold_expires_at, assigned_from_waitlist, booked_by_user_id, confirmed_at, checked_in_at, started_at, completed_at, cancelled_at, cancelled_by, cancellation_reason, created_at, updated_at FROM appointments;
DROP TABLE appointments;
ALTER TABLE appointments_rebuilt RENAME TO appointments;
CREATE INDEX appointments_provider_busy_idx ON appointments (provider_id, busy_start_at);
CREATE INDEX appointments_clinic_start_idx ON appointments (clinic_id, start_at);
CREATE INDEX appointments_patient_start_idx ON appointments (patient_id, start_at);
CREATE INDEX appointments_hold_idx ON appointments (hold_expires_at) WHERE status = 'pending_payment';

CREATE TABLE waitlist_entries (
    id                  BLOB PRIMARY KEY,
    clinic_id           BLOB NOT NULL REFERENCES clinics (id) ON DELETE RESTRICT,
    patient_id          BLOB NOT NULL REFERENCES patients (id) ON DELETE RESTRICT,
    service_id          BLOB NOT NULL REFERENCES services (id) ON DELETE RESTRICT,
    -- NULL: any provider who delivers the service.
    provider_id         BLOB REFERENCES providers (id) ON DELETE RESTRICT,
    mode                TEXT CHECK (mode IN ('in_person', 'video')),
    -- Both NULL: the first available time. Local dates of the clinic (YYYY-MM-DD).
    requested_from      TEXT,
    requested_to        TEXT,
    priority            TEXT NOT NULL DEFAULT 'standard' CHECK (priority IN ('standard', 'urgent', 'emergency')),
    -- 1-based place among the clinic's waiting entries of the same priority.
    position            INTEGER NOT NULL CHECK (position > 0),
    notes               TEXT,
    status              TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'offered', 'assigned', 'cancelled', 'expired')),
    appointment_id      BLOB REFERENCES appointments (id) ON DELETE SET NULL,
    created_by_user_id  BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    assigned_at         INTEGER,
    closed_at           INTEGER,
    close_reason        TEXT,
    CHECK (requested_from IS NULL OR requested_to IS NULL OR requested_from <= requested_to),
    CHECK (status <> 'assigned' OR (appointment_id IS NOT NULL AND assigned_at IS NOT NULL))
) STRICT;
-- One open entry per patient and service.
CREATE UNIQUE INDEX waitlist_entries_open_key ON waitlist_entries (patient_id, service_id)
    WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_entries_queue_idx ON waitlist_entries (clinic_id, status, priority, position);
CREATE INDEX waitlist_entries_patient_idx ON waitlist_entries (patient_id, created_at);

CREATE TABLE waitlist_offers (
    id             BLOB PRIMARY KEY,
    entry_id       BLOB NOT NULL REFERENCES waitlist_entries (id) ON DELETE CASCADE,
    appointment_id BLOB NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    provider_id    BLOB NOT NULL REFERENCES providers (id) ON DELETE CASCADE,
    start_at       INTEGER NOT NULL,
    end_at         INTEGER NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
    offered_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    responded_at   INTEGER,
    CHECK (expires_at > offered_at)
) STRICT;
-- Nothing is offered twice at once: one open offer per entry (a slot's one hold is its
-- appointment row, which the overlap checks keep unique).
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
