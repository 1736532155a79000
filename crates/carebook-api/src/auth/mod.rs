//! Authentication building blocks: password hashing, access tokens, random secrets, and the
//! signed-in caller ([`Principal`]).

pub mod jwt;
pub mod password;
pub mod principal;
pub mod secrets;

pub use principal::Principal;
