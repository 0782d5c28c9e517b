// Former name of `service-interface.ts`, kept only while stack/functions/index.ts (being
// reworked in another change) still imports it; nothing else may.
export type { HttpService, UpgradeService } from './service-interface.ts';
