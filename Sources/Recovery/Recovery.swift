/// The recovery services.
