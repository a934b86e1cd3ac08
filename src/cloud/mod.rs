pub mod azure;
pub mod google;
