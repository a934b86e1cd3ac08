//! Cloud identities: the credential chains of AWS, Google Cloud and Azure, and GitHub's tokens,
//! each turned into keys or access tokens. Nothing here knows about registries.

pub mod aws;
pub mod azure;
pub mod github;
pub mod google;
