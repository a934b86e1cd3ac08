pub mod aws;
pub mod azure;
pub mod google;
