//! Mail: the authentication records a mail domain publishes (the paper's
//! Table 1) and the checks a receiving server makes (figure 3). `auth` is the
//! pure record logic.

pub mod auth;
