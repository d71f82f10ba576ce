import { loadCalibrationProfiles } from './core/profiles/calibration-profiles.ts';
const t = loadCalibrationProfiles();
for (const p of [20,50,100]) console.log(p, t.serviceMs('resnet50',1,p), t.serviceMs('mobilenet',1,p));
