//! A training run: the recipe a user chooses ([`config`], [`schedule`]), the loop ([`train`]) with its update
//! rules ([`optim`]) and divergence checks ([`divergence`]), what the user can do to it while it runs
//! ([`control`]), what it tells the world ([`events`], [`metrics`]) and the [`coach`]'s hints over those events,
//! the one thread that hosts it ([`worker`]), starting from other weights ([`init_from`]) and fine-tuning on one's
//! own drawings ([`fine_tune`]), the recipe of a small set ([`small_set`]) and its throughput ([`bench`]).

pub mod bench;
pub mod coach;
pub mod config;
pub mod control;
pub mod divergence;
pub mod events;
pub mod fine_tune;
pub mod init_from;
pub mod metrics;
pub mod optim;
pub mod schedule;
pub mod small_set;
pub mod step;
pub mod train;
pub mod worker;
