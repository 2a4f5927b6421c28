//! The bus contract on the in-process bus.

use guildhall_bus::{SharedBus, bus_contract_tests};

bus_contract_tests!(|_prefix: String| async move {
    Some(guildhall_bus::connect("memory://", "").await.unwrap()) as Option<SharedBus>
});
