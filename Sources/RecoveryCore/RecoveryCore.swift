/// The pure recovery domain.
