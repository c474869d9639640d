// TEMPORARY for the lead's merge: src/agent/vsi-manager.ts imports this name. Once it imports
// NEAREST_CUSTOMER_BRIDGE from core/ethernet.ts instead, delete this file.
export {NEAREST_CUSTOMER_BRIDGE as NEAREST_CUSTOMER_BRIDGE_MAC} from '../core/ethernet.js'
