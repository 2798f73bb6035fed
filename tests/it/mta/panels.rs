//! Attribution through each panel's maps, and hostile spools: what cannot be read is reported and the
//! scan goes on.
