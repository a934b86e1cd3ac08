pub mod aws;
pub mod google;
