//! zhanqun (站群): one platform for every government website of a city.
//!
//! One folder per capability — [`sites`], [`columns`], [`documents`] (and the review
//! workflow), [`people`], [`bodies`], [`calendar`], [`disclosure`], [`reposts`],
//! [`inventory`], [`topics`], [`mailbox`], [`participation`], [`public`] (the public sites),
//! [`search`], [`monitor`] (supervision), [`corrections`] (找错 and duty reading),
//! [`staffing`] (the people responsible, training, outsourcing), [`visits`], [`annual`] (the sites' annual reports),
//! [`system`] — each with its commands, its queries and SQL, and its routes (`api`, `admin`,
//! `public`). They stand on the [`kernel`]: the actor and permissions, the command runner,
//! typed events through the outbox, jobs, the database, file storage, the page cache. The
//! [`web`] shell assembles the routers; [`app`] assembles the state and the wiring. Pure
//! rules live in the `zhanqun-domain` crate. `docs/architecture.md` draws the map.

pub mod annual;
pub mod app;
pub mod bodies;
pub mod calendar;
pub mod columns;
pub mod corrections;
pub mod demo;
pub mod disclosure;
pub mod documents;
pub mod expressions;
pub mod inventory;
pub mod kernel;
pub mod mailbox;
pub mod monitor;
pub mod participation;
pub mod people;
pub mod public;
pub mod reposts;
pub mod search;
pub mod server;
pub mod sites;
pub mod staffing;
pub mod system;
pub mod topics;
pub mod visits;
pub mod web;
