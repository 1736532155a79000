//! Roles and permissions: the one table that says who may do what.
//!
//! Permissions are named `resource.action`. The migrations of both backends seed
//! `roles`, `permissions` and `role_permissions` from the same list; a store test checks that
//! the seeded rows equal [`role_permissions`] so the database and the code cannot drift.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role. Doctors and specialists of the seeds are `Provider`; seed 001's admin access levels
/// are the four admin roles; pharmacy staff are `Pharmacist`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    Admin,
    Moderator,
    Support,
    Receptionist,
    Provider,
    Pharmacist,
    Patient,
    FamilyMember,
}

impl Role {
    pub const ALL: [Role; 9] = [
        Role::SuperAdmin,
        Role::Admin,
        Role::Moderator,
        Role::Support,
        Role::Receptionist,
        Role::Provider,
        Role::Pharmacist,
        Role::Patient,
        Role::FamilyMember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SuperAdmin => "super_admin",
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::Support => "support",
            Role::Receptionist => "receptionist",
            Role::Provider => "provider",
            Role::Pharmacist => "pharmacist",
            Role::Patient => "patient",
            Role::FamilyMember => "family_member",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::SuperAdmin => "Runs the whole clinic network; every permission",
            Role::Admin => "Administers one clinic (or the network when not bound to a clinic)",
            Role::Moderator => "Moderates reviews and content",
            Role::Support => "Helps users: reads accounts, unlocks them, reads the audit trail",
            Role::Receptionist => "Front desk of a clinic",
            Role::Provider => "Doctor or specialist delivering services",
            Role::Pharmacist => "Pharmacy staff",
            Role::Patient => "A patient using their own account",
            Role::FamilyMember => "A relative with limited access to a patient",
        }
    }

    /// Staff with a role that spans clinics see every clinic; the others see their own.
    pub fn spans_clinics(self) -> bool {
        matches!(self, Role::SuperAdmin | Role::Moderator | Role::Support)
    }

    /// Staff accounts are created by admins; patients and family members sign up or are
    /// invited.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Patient | Role::FamilyMember)
    }

    pub fn permissions(self) -> &'static [Permission] {
        role_permissions(self)
    }

    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown name `{0}`")]
pub struct UnknownName(pub String);

macro_rules! permissions {
    ($($variant:ident = $name:literal : $desc:literal,)*) => {
        /// A permission, named `resource.action`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Permission { $($variant,)* }

        impl Permission {
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];
            pub fn as_str(self) -> &'static str {
                match self { $(Permission::$variant => $name,)* }
            }
            pub fn description(self) -> &'static str {
                match self { $(Permission::$variant => $desc,)* }
            }
        }
    };
}

permissions! {
    UsersRead = "users.read": "List and read user accounts",
    UsersCreate = "users.create": "Create staff accounts",
    UsersUpdate = "users.update": "Change a user's name, phone, role or clinic",
    UsersDeactivate = "users.deactivate": "Deactivate and reactivate accounts",
    UsersUnlock = "users.unlock": "Lift a login lockout",
    IdentitiesManage = "identities.manage": "Link and unlink external identities",
    RolesRead = "roles.read": "Read roles and their permissions",
    ClinicsRead = "clinics.read": "Read clinics",
    ClinicsCreate = "clinics.create": "Create clinics",
    ClinicsUpdate = "clinics.update": "Change a clinic's details and settings",
    AuditRead = "audit.read": "Query the audit trail",
    CatalogRead = "catalog.read": "Read specializations, services and the provider directory",
    CatalogManage = "catalog.manage": "Manage specializations, services, provider profiles and where providers work",
    SlotsRead = "slots.read": "Search free appointment times",
    AvailabilityRead = "availability.read": "Read providers' weekly hours, date exceptions and time off",
    AvailabilityManage = "availability.manage": "Change weekly hours and date exceptions (providers: their own)",
    TimeOffRequest = "time_off.request": "Request or withdraw time off (providers: their own)",
    TimeOffDecide = "time_off.decide": "Approve or reject time off",
    PatientsRead = "patients.read": "Find and read patients of the clinic",
    PatientsCreate = "patients.create": "Register patients at the front desk",
    AppointmentsRead = "appointments.read": "Read the clinic's appointments: day sheets, agendas, search",
    AppointmentsBook = "appointments.book": "Book appointments for patients",
    AppointmentsUpdate = "appointments.update": "Move appointments through their day, cancel and reschedule them",
    AppointmentsOwn = "appointments.own": "A patient's own appointments: list, book, confirm, cancel, reschedule",
    JobsManage = "jobs.manage": "See dead background jobs and queue them again",
    WaitlistRead = "waitlist.read": "Read the clinic's waitlist",
    WaitlistManage = "waitlist.manage": "Add to the waitlist, reorder it, assign and withdraw offers",
    NotificationsRead = "notifications.read": "Read the notification history of patients and appointments",
    NotificationsManage = "notifications.manage": "Set patients' notification opt-outs and language",
    NotificationsOwn = "notifications.own": "A patient's own notification opt-outs and language",
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// The permission table. Kept as data so migrations, the route matrix test and the
/// `/api/v1/roles` endpoint all read the same thing.
pub fn role_permissions(role: Role) -> &'static [Permission] {
    use Permission::*;
    match role {
        Role::SuperAdmin => SUPER_ADMIN,
        Role::Admin => &[
            UsersRead,
            UsersCreate,
            UsersUpdate,
            UsersDeactivate,
            UsersUnlock,
            IdentitiesManage,
            RolesRead,
            ClinicsRead,
            ClinicsUpdate,
            AuditRead,
            CatalogRead,
            CatalogManage,
            SlotsRead,
            AvailabilityRead,
            AvailabilityManage,
            TimeOffRequest,
            TimeOffDecide,
            PatientsRead,
            PatientsCreate,
            AppointmentsRead,
            AppointmentsBook,
            AppointmentsUpdate,
            WaitlistRead,
            WaitlistManage,
            NotificationsRead,
            NotificationsManage,
        ],
        Role::Moderator => &[UsersRead, RolesRead, ClinicsRead, CatalogRead],
        Role::Support => &[
            UsersRead,
            UsersUnlock,
            RolesRead,
            ClinicsRead,
            AuditRead,
            CatalogRead,
            JobsManage,
        ],
        Role::Receptionist => &[
            UsersRead,
            ClinicsRead,
            CatalogRead,
            SlotsRead,
            AvailabilityRead,
            AvailabilityManage,
            TimeOffRequest,
            PatientsRead,
            PatientsCreate,
            AppointmentsRead,
            AppointmentsBook,
            AppointmentsUpdate,
            WaitlistRead,
            WaitlistManage,
            NotificationsRead,
            NotificationsManage,
        ],
        Role::Provider => &[
            ClinicsRead,
            CatalogRead,
            SlotsRead,
            AvailabilityRead,
            AvailabilityManage,
            TimeOffRequest,
            PatientsRead,
            AppointmentsRead,
            AppointmentsBook,
            AppointmentsUpdate,
            WaitlistRead,
        ],
        Role::Pharmacist => &[ClinicsRead, CatalogRead],
        Role::Patient => &[
            ClinicsRead,
            CatalogRead,
            SlotsRead,
            AppointmentsOwn,
            NotificationsOwn,
        ],
        Role::FamilyMember => &[ClinicsRead, CatalogRead, SlotsRead],
    }
}

/// Every permission but the patient's self-service one: the network administrator acts on
/// everyone's appointments through the staff routes, and has no "own" appointments.
const SUPER_ADMIN: &[Permission] = {
    use Permission::*;
    &[
        UsersRead,
        UsersCreate,
        UsersUpdate,
        UsersDeactivate,
        UsersUnlock,
        IdentitiesManage,
        RolesRead,
        ClinicsRead,
        ClinicsCreate,
        ClinicsUpdate,
        AuditRead,
        CatalogRead,
        CatalogManage,
        SlotsRead,
        AvailabilityRead,
        AvailabilityManage,
        TimeOffRequest,
        TimeOffDecide,
        PatientsRead,
        PatientsCreate,
        AppointmentsRead,
        AppointmentsBook,
        AppointmentsUpdate,
        JobsManage,
        WaitlistRead,
        WaitlistManage,
        NotificationsRead,
        NotificationsManage,
    ]
};

/// What a route requires of its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not (login, health checks).
    Public,
    /// Any signed-in, active account (its own profile, its MFA).
    Authenticated,
    /// A signed-in account whose role holds the permission.
    Permission(Permission),
}

impl Access {
    /// Whether `role` (None = anonymous) may call a route with this access rule.
    pub fn decide(self, role: Option<Role>) -> Decision {
        match (self, role) {
            (Access::Public, _) => Decision::Allow,
            (_, None) => Decision::Unauthenticated,
            (Access::Authenticated, Some(_)) => Decision::Allow,
            (Access::Permission(p), Some(r)) if r.has(p) => Decision::Allow,
            (Access::Permission(_), Some(_)) => Decision::Forbidden,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Unauthenticated,
    Forbidden,
}

impl Permission {
    /// Permissions over the holder's own records (a patient's own appointments): they grant
    /// nothing over anyone else, so they do not count when comparing how powerful roles are.
    pub fn is_self_service(self) -> bool {
        matches!(
            self,
            Permission::AppointmentsOwn | Permission::NotificationsOwn
        )
    }
}

impl Permission {
    /// Permissions over accounts, clinics, the catalog and the audit trail, as opposed to the
    /// day-to-day work of a clinic (appointments, patients, schedules).
    pub fn is_administrative(self) -> bool {
        use Permission::*;
        matches!(
            self,
            UsersRead
                | UsersCreate
                | UsersUpdate
                | UsersDeactivate
                | UsersUnlock
                | IdentitiesManage
                | RolesRead
                | ClinicsCreate
                | ClinicsUpdate
                | AuditRead
                | CatalogManage
                | TimeOffDecide
                | JobsManage
        )
    }
}

/// Whether an actor may manage an existing account of `target`'s role (unlock, deactivate,
/// rename it): the target holds no administrative permission the actor lacks. A help desk can
/// unlock a receptionist without itself reading appointments; nobody manages an account with
/// more administrative power than their own.
pub fn may_manage(actor: Role, target: Role) -> bool {
    target
        .permissions()
        .iter()
        .filter(|p| p.is_administrative())
        .all(|p| actor.has(*p))
}

/// An actor may hand out a role only if every permission of that role is one of its own
/// (self-service ones aside), so nobody can create an account more powerful than themselves.
pub fn may_grant(actor: Role, target: Role) -> bool {
    target
        .permissions()
        .iter()
        .filter(|p| !p.is_self_service())
        .all(|p| actor.has(*p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("doctor".parse::<Role>().is_err());
    }

    #[test]
    fn permission_names_are_resource_dot_action_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in Permission::ALL {
            let (resource, action) = p.as_str().split_once('.').expect("resource.action");
            assert!(!resource.is_empty() && !action.is_empty());
            assert!(seen.insert(p.as_str()), "duplicate {p}");
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
        }
    }

    #[test]
    fn decisions_follow_the_table() {
        let a = Access::Permission(Permission::AuditRead);
        assert_eq!(a.decide(None), Decision::Unauthenticated);
        assert_eq!(a.decide(Some(Role::Admin)), Decision::Allow);
        assert_eq!(a.decide(Some(Role::Patient)), Decision::Forbidden);
        assert_eq!(Access::Public.decide(None), Decision::Allow);
        assert_eq!(
            Access::Authenticated.decide(None),
            Decision::Unauthenticated
        );
        assert_eq!(
            Access::Authenticated.decide(Some(Role::Patient)),
            Decision::Allow
        );
    }

    #[test]
    fn nobody_grants_more_than_they_hold() {
        assert!(may_grant(Role::SuperAdmin, Role::Admin));
        assert!(may_grant(Role::Admin, Role::Receptionist));
        assert!(!may_grant(Role::Admin, Role::SuperAdmin));
        assert!(!may_grant(Role::Receptionist, Role::Admin));
        for r in Role::ALL {
            assert!(may_grant(Role::SuperAdmin, r));
        }
    }

    #[test]
    fn management_compares_administrative_power() {
        assert!(may_manage(Role::Support, Role::Receptionist));
        assert!(may_manage(Role::Support, Role::Provider));
        assert!(!may_manage(Role::Support, Role::Admin));
        assert!(!may_manage(Role::Receptionist, Role::Admin));
        assert!(!may_grant(Role::Support, Role::Receptionist));
        for r in Role::ALL {
            assert!(may_manage(Role::SuperAdmin, r));
            // The network roles are the network administrator's to manage.
            assert!(may_manage(Role::Admin, r) || matches!(r, Role::SuperAdmin | Role::Support));
        }
    }

    #[test]
    fn the_network_administrator_holds_every_staff_permission() {
        for p in Permission::ALL {
            assert_eq!(Role::SuperAdmin.has(*p), !p.is_self_service(), "{p}");
        }
    }
}
