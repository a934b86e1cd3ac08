pub mod azure;
