// Preload (sandboxed, CommonJS): exposes exactly four functions to the renderer and nothing of Node.
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { ApiEvent } from '../api/contract.ts';
import type { PreloadBridge } from '../api/client.ts';

const bridge: PreloadBridge = {
  invoke: (method, payload) => ipcRenderer.invoke('saliency:invoke', String(method), payload),
  onEvent(listener) {
    const handler = (_e: IpcRendererEvent, event: ApiEvent) => listener(event);
    ipcRenderer.on('saliency:event', handler);
    return () => { ipcRenderer.removeListener('saliency:event', handler); };
  },
  pathForFile: (file) => webUtils.getPathForFile(file),
  chooseFolder: () => ipcRenderer.invoke('saliency:choose-folder'),
};

contextBridge.exposeInMainWorld('saliency', bridge);
