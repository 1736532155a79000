//! Which channel carries a message to a patient.
//!
//! A clinic lists the channels in the order it prefers them (push, then SMS, then email by
//! default). A message goes by the first channel of that list the patient can receive (a
//! device registered for push, a phone number for SMS, an address for email, an account for
//! in-app) and has not opted out of. A patient who opted out of everything, or of every
//! channel they have, gets the message recorded as skipped; so does one the clinic cannot
//! reach at all.

use crate::identity::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Email,
    Sms,
    Push,
    InApp,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Email, Channel::Sms, Channel::Push, Channel::InApp];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Push => "push",
            Channel::InApp => "in_app",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The order a clinic tries channels in unless it says otherwise.
pub const DEFAULT_ORDER: [Channel; 3] = [Channel::Push, Channel::Sms, Channel::Email];

/// Parses a clinic's channel order: one to four known channels, none twice.
pub fn parse_order<S: AsRef<str>>(names: &[S]) -> Result<Vec<Channel>, ValidationError> {
    let field = "channel_order";
    if names.is_empty() {
        return Err(ValidationError::new(field, "name at least one channel"));
    }
    let mut order = Vec::with_capacity(names.len());
    for n in names {
        let c = Channel::parse(n.as_ref()).ok_or_else(|| {
            ValidationError::new(field, "channels are email, sms, push and in_app")
        })?;
        if order.contains(&c) {
            return Err(ValidationError::new(field, "a channel appears twice"));
        }
        order.push(c);
    }
    Ok(order)
}

/// Which channels the patient can be reached on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reach {
    /// An active push token on the patient's account.
    pub push: bool,
    /// A phone number.
    pub sms: bool,
    /// An email address.
    pub email: bool,
    /// An account to show in-app messages in.
    pub in_app: bool,
}

impl Reach {
    pub fn has(&self, c: Channel) -> bool {
        match c {
            Channel::Email => self.email,
            Channel::Sms => self.sms,
            Channel::Push => self.push,
            Channel::InApp => self.in_app,
        }
    }
}

/// What the patient turned off. In-app messages wait in the patient's own inbox and have no
/// switch of their own; `all` silences them too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OptOuts {
    pub all: bool,
    pub email: bool,
    pub sms: bool,
    pub push: bool,
}

impl OptOuts {
    pub fn excludes(&self, c: Channel) -> bool {
        self.all
            || match c {
                Channel::Email => self.email,
                Channel::Sms => self.sms,
                Channel::Push => self.push,
                Channel::InApp => false,
            }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Opted out of every notification, or of each channel the patient has.
    OptedOut,
    /// None of the clinic's channels reaches the patient.
    Unreachable,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::OptedOut => "the patient opted out of this channel",
            SkipReason::Unreachable => "the patient has none of the clinic's channels",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Send(Channel),
    /// Recorded on `channel` as skipped; nothing is sent.
    Skip {
        channel: Channel,
        reason: SkipReason,
    },
}

impl Choice {
    pub fn channel(self) -> Channel {
        match self {
            Choice::Send(c) | Choice::Skip { channel: c, .. } => c,
        }
    }
}

/// The channel of a patient message: the first of `order` the patient has and did not opt
/// out of. A skipped message is recorded on the first channel the patient has (so the
/// history shows what they would have received), else on the clinic's first.
pub fn choose(order: &[Channel], reach: &Reach, opt_outs: &OptOuts) -> Choice {
    let order = if order.is_empty() {
        &DEFAULT_ORDER[..]
    } else {
        order
    };
    if let Some(c) = order
        .iter()
        .copied()
        .find(|c| reach.has(*c) && !opt_outs.excludes(*c))
    {
        return Choice::Send(c);
    }
    match order.iter().copied().find(|c| reach.has(*c)) {
        Some(channel) => Choice::Skip {
            channel,
            reason: SkipReason::OptedOut,
        },
        None => Choice::Skip {
            channel: order[0],
            reason: SkipReason::Unreachable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Channel::*;

    const ALL_REACH: Reach = Reach {
        push: true,
        sms: true,
        email: true,
        in_app: true,
    };

    #[test]
    fn the_first_channel_the_patient_has_wins() {
        let none = OptOuts::default();
        assert_eq!(
            choose(&DEFAULT_ORDER, &ALL_REACH, &none),
            Choice::Send(Push)
        );
        let no_push = Reach {
            push: false,
            ..ALL_REACH
        };
        assert_eq!(choose(&DEFAULT_ORDER, &no_push, &none), Choice::Send(Sms));
        let email_only = Reach {
            email: true,
            ..Reach::default()
        };
        assert_eq!(
            choose(&DEFAULT_ORDER, &email_only, &none),
            Choice::Send(Email)
        );
        assert_eq!(
            choose(&[Email, Sms], &ALL_REACH, &none),
            Choice::Send(Email)
        );
        assert_eq!(choose(&[], &ALL_REACH, &none), Choice::Send(Push));
    }

    #[test]
    fn opted_out_channels_are_passed_over_and_all_of_them_skip() {
        let no_push = OptOuts {
            push: true,
            ..Default::default()
        };
        assert_eq!(
            choose(&DEFAULT_ORDER, &ALL_REACH, &no_push),
            Choice::Send(Sms)
        );
        let everything = OptOuts {
            all: true,
            ..Default::default()
        };
        assert_eq!(
            choose(&DEFAULT_ORDER, &ALL_REACH, &everything),
            Choice::Skip {
                channel: Push,
                reason: SkipReason::OptedOut
            }
        );
        let sms_only = Reach {
            sms: true,
            ..Reach::default()
        };
        let no_sms = OptOuts {
            sms: true,
            ..Default::default()
        };
        assert_eq!(
            choose(&DEFAULT_ORDER, &sms_only, &no_sms),
            Choice::Skip {
                channel: Sms,
                reason: SkipReason::OptedOut
            }
        );
    }

    #[test]
    fn an_unreachable_patient_is_skipped_on_the_first_channel() {
        assert_eq!(
            choose(&DEFAULT_ORDER, &Reach::default(), &OptOuts::default()),
            Choice::Skip {
                channel: Push,
                reason: SkipReason::Unreachable
            }
        );
    }

    #[test]
    fn orders_parse_once() {
        assert_eq!(parse_order(&["sms", "email"]), Ok(vec![Sms, Email]));
        assert!(parse_order::<&str>(&[]).is_err());
        assert!(parse_order(&["sms", "sms"]).is_err());
        assert!(parse_order(&["fax"]).is_err());
    }
}
